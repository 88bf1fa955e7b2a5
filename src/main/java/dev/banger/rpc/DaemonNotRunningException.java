package dev.banger.rpc;

import dev.banger.api.BangerException;
import dev.banger.api.ErrorCode;

/** Nothing accepts connections on the daemon's socket (absent, stale, or refused): the request was not sent. */
public final class DaemonNotRunningException extends BangerException {
    public DaemonNotRunningException(String message) {
        super(ErrorCode.UNAVAILABLE, message);
    }
}
