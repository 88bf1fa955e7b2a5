package dev.banger.guest;

import java.util.Locale;

/**
 * The error codes the guest agent puts in its {@code ERROR} frames (docs/agent-protocol.md, "Error codes"). A code
 * this build does not know (a newer agent) reads as {@link #UNKNOWN}; its wire name is kept in the exception.
 */
public enum AgentError {
    BAD_FRAME,
    FRAME_TOO_LARGE,
    BAD_REQUEST,
    CHANNEL_IN_USE,
    EXEC_FAILED,
    INTERNAL,
    NOT_FOUND,
    ALREADY_EXISTS,
    NOT_RUNNING,
    STILL_RUNNING,
    LIMIT_REACHED,
    UNSAFE_PATH,
    BAD_ARCHIVE,
    IO_ERROR,
    UNKNOWN;

    /** The code as the agent writes it ({@code exec_failed}). */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The code for a wire name; {@link #UNKNOWN} for one this build does not know, or null. */
    public static AgentError fromWire(String wire) {
        if (wire == null) {
            return UNKNOWN;
        }
        for (AgentError e : values()) {
            if (e != UNKNOWN && e.wireName().equals(wire)) {
                return e;
            }
        }
        return UNKNOWN;
    }
}
