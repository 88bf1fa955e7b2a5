package dev.banger.json;

/** Text that is not JSON, or JSON that does not fit the type it is read into. The message says where. */
public final class JsonException extends RuntimeException {
    public JsonException(String message) {
        super(message);
    }
}
