package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.api.ErrorCode;
import dev.banger.guest.AgentException;
import dev.banger.model.Vm;
import java.io.IOException;

/**
 * Guest agent failures in the user's words, one wording for every guest-facing service: what the agent refused,
 * with our error code for its code and where it happened; or that the VM's agent was lost.
 */
public final class GuestErrors {

    private GuestErrors() {
    }

    /**
     * The failure of an agent operation. An answer from the agent keeps its own message and gets the matching
     * error code; anything else (connection lost, timeout) is {@link #lost}.
     *
     * @param where what was being done, for the message ("VM 'dev', /root/x")
     */
    public static BangerException of(Vm vm, String where, IOException e) {
        if (!(e instanceof AgentException ae) || ae.code() == null) {
            return lost(vm, e);
        }
        ErrorCode code = switch (ae.code()) {
            case NOT_FOUND -> ErrorCode.NOT_FOUND;
            case ALREADY_EXISTS -> ErrorCode.ALREADY_EXISTS;
            case NOT_RUNNING, STILL_RUNNING -> ErrorCode.CONFLICT;
            case LIMIT_REACHED, IO_ERROR -> ErrorCode.FAILED_PRECONDITION;
            case EXEC_FAILED, BAD_REQUEST, UNSAFE_PATH, BAD_ARCHIVE -> ErrorCode.INVALID_ARGUMENT;
            default -> ErrorCode.UNAVAILABLE;
        };
        if (code == ErrorCode.UNAVAILABLE) {
            return lost(vm, e);
        }
        return new BangerException(code, ae.detail() + " (" + where + ")");
    }

    /** The agent connection failed or the agent broke the protocol: the VM may have gone down. */
    public static BangerException lost(Vm vm, IOException e) {
        return BangerException.unavailable("lost the guest agent of VM '" + vm.name() + "': " + e.getMessage()
                + " (see: banger vm logs " + vm.name() + ")");
    }
}
