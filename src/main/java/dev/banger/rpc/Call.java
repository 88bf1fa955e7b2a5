package dev.banger.rpc;

import dev.banger.api.Event;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * The daemon side of one RPC call, handed to its handler: emit events, take client input, learn of the
 * client going away.
 */
public interface Call {

    /** Sends an event to the client. Never throws: once the client is gone, events are dropped. */
    void emit(Event event);

    /**
     * Sends {@code len} bytes of the call's output to the client, which sees them as {@link Event.Output} on
     * stdout. On a connection they travel as a data frame (raw bytes, no JSON), written before this returns, so
     * the caller may reuse {@code data}. Never throws: once the client is gone, output is dropped.
     */
    default void emitData(byte[] data, int off, int len) {
        emit(new Event.Output("stdout", Arrays.copyOfRange(data, off, off + len)));
    }

    /**
     * Waits for the client's next input frame.
     *
     * @return the input, or null on timeout or when the client closed its side (then {@link #cancelled()})
     */
    Input nextInput(long timeout, TimeUnit unit) throws InterruptedException;

    /** True once the client disconnected before the call finished. */
    boolean cancelled();

    /**
     * Runs {@code action} (once) when the client disconnects before the call finishes; immediately when it
     * already has. Used to stop guest work nobody is waiting for.
     */
    void onCancel(Runnable action);

    /**
     * Who made the call. A handler that opens a path the client named reads it as this peer when it is not
     * {@link Peer#privileged()} ({@code dev.banger.host.ClientFiles}).
     */
    default Peer peer() {
        return Peer.INTERNAL;
    }

    /** A call with no client behind it (internal use and tests): events are dropped, there is no input. */
    static Call detached() {
        return DetachedCall.INSTANCE;
    }
}
