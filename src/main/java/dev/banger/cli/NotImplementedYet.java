package dev.banger.cli;

import dev.banger.api.BangerException;
import dev.banger.api.ErrorCode;

/** The answer of a command whose service is not built yet (the only stub banger allows). */
final class NotImplementedYet {

    private NotImplementedYet() {
    }

    static BangerException command(String command, int issue) {
        return new BangerException(ErrorCode.FAILED_PRECONDITION, command
                + ": not implemented yet (tracked in issue #" + issue + ")");
    }
}
