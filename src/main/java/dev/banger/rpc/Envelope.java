package dev.banger.rpc;

import dev.banger.api.Event;

/** The JSON objects carried in frames. */
final class Envelope {

    private Envelope() {
    }

    /** Client → daemon, first frame of a connection. {@code params} is the request as a JSON tree. */
    record Request(String method, Object params) {
    }

    /**
     * Daemon → client. Exactly one field is set: zero or more frames with {@code event}, then one with
     * {@code result} or {@code error}.
     */
    record Response(Event event, Object result, WireError error) {
    }

    record WireError(String code, String message) {
    }
}
