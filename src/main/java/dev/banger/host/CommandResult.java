package dev.banger.host;

import java.nio.charset.StandardCharsets;

/** What a finished program left behind: its exit code and captured output. */
public record CommandResult(int exitCode, byte[] stdout, byte[] stderr) {

    public String stdoutText() {
        return new String(stdout, StandardCharsets.UTF_8);
    }

    public String stderrText() {
        return new String(stderr, StandardCharsets.UTF_8);
    }

    public boolean succeeded() {
        return exitCode == 0;
    }
}
