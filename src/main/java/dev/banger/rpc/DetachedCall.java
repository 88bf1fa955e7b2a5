package dev.banger.rpc;

import dev.banger.api.Event;
import java.util.concurrent.TimeUnit;

final class DetachedCall implements Call {

    static final DetachedCall INSTANCE = new DetachedCall();

    @Override
    public void emit(Event event) {
    }

    @Override
    public Input nextInput(long timeout, TimeUnit unit) {
        return null;
    }

    @Override
    public boolean cancelled() {
        return false;
    }

    @Override
    public void onCancel(Runnable action) {
    }
}
