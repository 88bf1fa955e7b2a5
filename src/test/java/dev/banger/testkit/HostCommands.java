package dev.banger.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Host programs a test runs for its set-up and clean-up (ip netns, useradd, ...), as argv, never through a shell. */
public final class HostCommands {

    private HostCommands() {
    }

    /** Runs {@code argv} to its end; a non-zero exit is an {@link IOException} with the argv and the output. */
    public static void run(List<String> argv) throws IOException {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IOException(String.join(" ", argv) + " failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** As {@link #run}, for clean-up: a failure is ignored (there is nothing left to do about it). */
    public static void runQuietly(List<String> argv) {
        try {
            run(argv);
        } catch (IOException e) {
            // Clean-up: nothing left to do about it.
        }
    }
}
