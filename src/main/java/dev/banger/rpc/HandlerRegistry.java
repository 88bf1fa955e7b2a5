package dev.banger.rpc;

import dev.banger.api.Method;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** The daemon's dispatch table: method name → typed handler. */
public final class HandlerRegistry {

    record Registered<Q, R>(Method<Q, R> method, Handler<Q, R> handler) {
    }

    private final Map<String, Registered<?, ?>> byName = new LinkedHashMap<>();

    /** Registers the handler of {@code method}; each method once. */
    public <Q, R> HandlerRegistry on(Method<Q, R> method, Handler<Q, R> handler) {
        if (byName.putIfAbsent(method.name(), new Registered<>(method, handler)) != null) {
            throw new IllegalStateException("method registered twice: " + method.name());
        }
        return this;
    }

    Registered<?, ?> lookup(String name) {
        return byName.get(name);
    }

    public Set<String> methodNames() {
        return byName.keySet();
    }
}
