package dev.banger.api;

import java.util.Locale;

/** Stable, machine-readable error codes of the RPC protocol. The wire form is the lowercase name. */
public enum ErrorCode {
    /** The request names something that does not exist. */
    NOT_FOUND,
    /** The request would create something whose name is taken. */
    ALREADY_EXISTS,
    /** A field of the request is malformed or out of range. */
    INVALID_ARGUMENT,
    /** The target is in a state that does not allow the operation (e.g. delete a running VM without --force). */
    CONFLICT,
    /** The host lacks something the operation needs (a program, a device, disk space). */
    FAILED_PRECONDITION,
    /** The daemon or a guest cannot be reached or did not answer in time. */
    UNAVAILABLE,
    /** The peer is not allowed to talk to this daemon. */
    PERMISSION_DENIED,
    /** The frame or envelope could not be read (malformed JSON, oversized or truncated frame). */
    BAD_REQUEST,
    /** The method is not one this daemon serves. */
    UNKNOWN_METHOD,
    /** The operation was cancelled by the client. */
    CANCELLED,
    /** A bug or an unexpected failure; the daemon log has the details. */
    INTERNAL;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Maps a wire name back; unknown names (a newer daemon) become {@link #INTERNAL}. */
    public static ErrorCode fromWire(String value) {
        for (ErrorCode code : values()) {
            if (code.wireName().equals(value)) {
                return code;
            }
        }
        return INTERNAL;
    }
}
