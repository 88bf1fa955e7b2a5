package dev.banger.guest;

import java.io.IOException;

/**
 * The guest agent failed a request, broke the protocol, or could not be reached. When the agent itself answered
 * with an {@code ERROR} frame, {@link #code()} is its error code and {@link #detail()} its own message; the
 * exception's message adds what was being done and with which agent.
 */
public class AgentException extends IOException {

    private final AgentError code;
    private final String detail;

    public AgentException(String message) {
        this(message, (Throwable) null);
    }

    public AgentException(String message, Throwable cause) {
        super(message, cause);
        this.code = null;
        this.detail = message;
    }

    /**
     * The agent's answer to a request.
     *
     * @param context what was being done, on which agent ("exec make on serial:/run/x.sock")
     * @param wireCode the code as the agent sent it, kept in the message when this build does not know it
     * @param detail the agent's message, for people
     */
    public static AgentException answered(String context, String wireCode, String detail) {
        return new AgentException(AgentError.fromWire(wireCode), detail,
                context + ": " + wireCode + ": " + detail, null);
    }

    /** The same failure seen again (another caller, another thread): keeps code and detail. */
    public AgentException rethrown() {
        return new AgentException(code, detail, getMessage(), this);
    }

    private AgentException(AgentError code, String detail, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.detail = detail;
    }

    /**
     * The agent's error code when it answered with ERROR, else null (the connection failed, it timed out, or its
     * answer lacked what the request needs).
     */
    public AgentError code() {
        return code;
    }

    /** The agent's own message when it answered with ERROR; else the same as the exception's message. */
    public String detail() {
        return detail;
    }
}
