package dev.banger.guest;

import java.io.IOException;

/**
 * The guest agent failed a request, broke the protocol, or could not be reached. When the agent itself answered
 * with an {@code ERROR} frame, {@link #code()} is its error code ({@code exec_failed}, {@code bad_request}, ...).
 */
public class AgentException extends IOException {

    private final String code;

    public AgentException(String message) {
        this(null, message, null);
    }

    public AgentException(String message, Throwable cause) {
        this(null, message, cause);
    }

    public AgentException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** The agent's error code when it answered with ERROR, else null. */
    public String code() {
        return code;
    }
}
