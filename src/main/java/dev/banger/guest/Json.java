package dev.banger.guest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;

/** JSON for OPEN requests and RESULT/ERROR/HELLO payloads. */
final class Json {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot encode " + value, e);
        }
    }

    static JsonNode parse(Frame frame) throws AgentException {
        try {
            JsonNode node = MAPPER.readTree(frame.payload());
            if (node == null || !node.isObject()) {
                throw new AgentException("guest agent sent a " + FrameType.name(frame.type())
                        + " payload that is not a JSON object: " + frame.text());
            }
            return node;
        } catch (IOException e) {
            throw new AgentException("guest agent sent a " + FrameType.name(frame.type())
                    + " payload that is not JSON: " + frame.text(), e);
        }
    }

    /** The agent's {"code","message"} ERROR payload as an exception. */
    static AgentException error(Frame frame, String context) {
        try {
            JsonNode node = parse(frame);
            String code = node.path("code").asText("internal");
            String message = node.path("message").asText("");
            return new AgentException(code, context + ": " + code + ": " + message, null);
        } catch (AgentException e) {
            return e;
        }
    }
}
