package dev.banger.host;

/** An external program could not be started, exited non-zero, or ran past its timeout. */
public final class CommandFailedException extends RuntimeException {

    private final transient Command command;
    private final int exitCode;
    private final String stderr;

    public CommandFailedException(Command command, int exitCode, String stderr, String reason) {
        super(reason + ": " + command.display() + (stderr.isBlank() ? "" : ": " + lastLine(stderr)));
        this.command = command;
        this.exitCode = exitCode;
        this.stderr = stderr;
    }

    public Command command() {
        return command;
    }

    /** The exit code, or -1 when the program did not start or was killed on timeout. */
    public int exitCode() {
        return exitCode;
    }

    public String stderr() {
        return stderr;
    }

    private static String lastLine(String text) {
        String trimmed = text.strip();
        int nl = trimmed.lastIndexOf('\n');
        return nl < 0 ? trimmed : trimmed.substring(nl + 1);
    }
}
