package dev.banger.guest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The JSON of the agent protocol (docs/agent-protocol.md): OPEN requests from {@link AgentOp}s, RESULT payloads
 * into their typed results, ERROR payloads into {@link AgentException}s, and HELLO.
 *
 * <p>Results are read leniently and strictly at once: a field this build does not know is ignored (a newer agent
 * may add fields), a field it needs that is missing or of the wrong type fails the request with an
 * {@link AgentException} naming the field, the op and the agent.
 */
final class AgentCodec {

    private static final String OP = "op";
    private static final String PROTOCOL = "protocol";
    private static final String CODE = "code";
    private static final String MESSAGE = "message";
    /** How much of a result an error message quotes. */
    private static final int QUOTE_LIMIT = 300;

    private AgentCodec() {
    }

    /** The OPEN payload for {@code op}: {@code {"op":NAME, fields...}}. */
    static byte[] request(AgentOp<?> op) {
        Request out = new Request();
        out.put(OP, op.wireName());
        op.write(out);
        return dev.banger.json.Json.writeBytes(out.fields);
    }

    /**
     * {@code op}'s typed result from its RESULT frame.
     *
     * @param context what was asked of which agent ("session.list on serial:/run/x.sock"), for messages
     * @throws AgentException when the payload is not a JSON object or lacks a field the result needs
     */
    static <R> R result(AgentOp<R> op, Frame frame, String context) throws AgentException {
        return op.read(new Fields(Json.parse(frame), context));
    }

    /** The agent's {"code","message"} ERROR payload as an exception; a code this build does not know is kept. */
    static AgentException error(Frame frame, String context) {
        try {
            Map<?, ?> node = Json.parse(frame);
            return AgentException.answered(context, Json.text(node, CODE, AgentError.INTERNAL.wireName()),
                    Json.text(node, MESSAGE, ""));
        } catch (AgentException e) {
            return e;
        }
    }

    /** The host's HELLO payload. */
    static byte[] hello() {
        return dev.banger.json.Json.writeBytes(Map.of(PROTOCOL, FrameType.PROTOCOL_VERSION));
    }

    /** The protocol version in the guest's HELLO reply, -1 when it names none. */
    static int helloProtocol(Map<?, ?> reply) {
        return (int) Json.number(reply, PROTOCOL, -1);
    }

    /** An OPEN request's fields, in the order they are put. */
    static final class Request {
        private final Map<String, Object> fields = new LinkedHashMap<>();

        /** @param value a string, number, boolean, list of strings or map of strings */
        void put(String name, Object value) {
            fields.put(name, Objects.requireNonNull(value, name));
        }
    }

    /** Reads one JSON object the agent sent, field by field; see the class comment for what is checked. */
    static final class Fields {
        private final Map<?, ?> object;
        private final String context;

        Fields(Map<?, ?> object, String context) {
            this.object = object;
            this.context = context;
        }

        boolean has(String name) {
            return object.get(name) != null;
        }

        long number(String name) throws AgentException {
            return require(name, Number.class, "a number").longValue();
        }

        int integer(String name) throws AgentException {
            long value = number(name);
            if (value != (int) value) {
                throw invalid(name, "is " + value + ", out of range");
            }
            return (int) value;
        }

        /** The field as an int, or null when it is absent. */
        Integer optionalInteger(String name) throws AgentException {
            return has(name) ? integer(name) : null;
        }

        String text(String name) throws AgentException {
            return require(name, String.class, "a string");
        }

        boolean flag(String name) throws AgentException {
            return require(name, Boolean.class, "true or false");
        }

        /** The field, or {@code fallback} when it is absent. */
        boolean flag(String name, boolean fallback) throws AgentException {
            return has(name) ? flag(name) : fallback;
        }

        List<String> texts(String name) throws AgentException {
            List<String> out = new ArrayList<>();
            List<?> items = require(name, List.class, "an array of strings");
            for (int i = 0; i < items.size(); i++) {
                if (!(items.get(i) instanceof String s)) {
                    throw invalid(name + "[" + i + "]", "is " + describe(items.get(i)) + ", not a string");
                }
                out.add(s);
            }
            return out;
        }

        /** Each object of the array {@code name}, read by {@code reader}. */
        <T> List<T> objects(String name, Reader<T> reader) throws AgentException {
            List<T> out = new ArrayList<>();
            List<?> items = require(name, List.class, "an array of objects");
            for (int i = 0; i < items.size(); i++) {
                if (!(items.get(i) instanceof Map<?, ?> item)) {
                    throw invalid(name + "[" + i + "]", "is " + describe(items.get(i)) + ", not an object");
                }
                out.add(reader.read(new Fields(item, context + ", " + name + "[" + i + "]")));
            }
            return out;
        }

        private <T> T require(String name, Class<T> type, String what) throws AgentException {
            Object value = object.get(name);
            if (value == null) {
                throw new AgentException(context + ": the agent's answer lacks the field \"" + name + "\" ("
                        + what + "): " + quote());
            }
            if (!type.isInstance(value)) {
                throw invalid(name, "is " + describe(value) + ", not " + what);
            }
            return type.cast(value);
        }

        private AgentException invalid(String name, String problem) {
            return new AgentException(context + ": the field \"" + name + "\" of the agent's answer " + problem
                    + ": " + quote());
        }

        private String quote() {
            String text = dev.banger.json.Json.write(object);
            return text.length() <= QUOTE_LIMIT ? text : text.substring(0, QUOTE_LIMIT) + "...";
        }

        private static String describe(Object value) {
            if (value == null) {
                return "null";
            }
            if (value instanceof String) {
                return "a string";
            }
            if (value instanceof Number) {
                return "a number";
            }
            if (value instanceof Boolean) {
                return "a boolean";
            }
            return value instanceof List ? "an array" : "an object";
        }
    }

    /** Reads one result object (or one entry of a result's array). */
    @FunctionalInterface
    interface Reader<T> {
        T read(Fields in) throws AgentException;
    }
}
