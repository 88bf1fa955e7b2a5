package dev.banger.guest;

import java.util.Map;

/**
 * Frame payloads as JSON trees, over the project's codec ({@link dev.banger.json.Json}); {@link AgentCodec} reads
 * them into the protocol's types.
 */
final class Json {

    private Json() {
    }

    /** The frame's payload as a JSON object. */
    static Map<?, ?> parse(Frame frame) throws AgentException {
        Object tree;
        try {
            tree = dev.banger.json.Json.parseTree(frame.text());
        } catch (dev.banger.json.JsonException e) {
            throw new AgentException("guest agent sent a " + FrameType.name(frame.type())
                    + " payload that is not JSON: " + frame.text(), e);
        }
        if (!(tree instanceof Map<?, ?> map)) {
            throw new AgentException("guest agent sent a " + FrameType.name(frame.type())
                    + " payload that is not a JSON object: " + frame.text());
        }
        return map;
    }

    static String text(Map<?, ?> object, String key, String fallback) {
        return object.get(key) instanceof String s ? s : fallback;
    }

    static long number(Map<?, ?> object, String key, long fallback) {
        return object.get(key) instanceof Number n ? n.longValue() : fallback;
    }
}
