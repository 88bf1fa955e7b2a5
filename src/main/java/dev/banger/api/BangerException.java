package dev.banger.api;

/**
 * The one exception type that crosses the RPC boundary: a code for programs and a one-line message for people
 * (what failed, with which input, and what to do).
 */
public class BangerException extends RuntimeException {

    private final ErrorCode code;

    public BangerException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public BangerException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    public static BangerException notFound(String message) {
        return new BangerException(ErrorCode.NOT_FOUND, message);
    }

    public static BangerException alreadyExists(String message) {
        return new BangerException(ErrorCode.ALREADY_EXISTS, message);
    }

    public static BangerException invalidArgument(String message) {
        return new BangerException(ErrorCode.INVALID_ARGUMENT, message);
    }

    public static BangerException conflict(String message) {
        return new BangerException(ErrorCode.CONFLICT, message);
    }

    public static BangerException failedPrecondition(String message) {
        return new BangerException(ErrorCode.FAILED_PRECONDITION, message);
    }

    public static BangerException unavailable(String message) {
        return new BangerException(ErrorCode.UNAVAILABLE, message);
    }
}
