package dev.banger.host;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** The real {@link CommandRunner}: starts the program with {@link ProcessBuilder}. */
public final class ProcessCommandRunner implements CommandRunner {

    /** Longer lines are cut for the line listener (the captured output keeps them whole). */
    private static final int MAX_LINE = 4096;

    @Override
    public CommandResult run(Command command) {
        ProcessBuilder pb = new ProcessBuilder(command.argv());
        pb.environment().putAll(command.env());
        if (command.cwd() != null) {
            pb.directory(command.cwd().toFile());
        }
        if (command.stdin() == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        }
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new CommandFailedException(command, -1, "", "cannot start program (" + e.getMessage() + ")");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread outPump = pump(process.getInputStream(), out, command.outputLines());
        Thread errPump = pump(process.getErrorStream(), err, command.outputLines());
        try {
            if (command.stdin() != null) {
                try (OutputStream in = process.getOutputStream()) {
                    in.write(command.stdin());
                } catch (IOException ignored) {
                    // The program closed its stdin early; its exit code tells the story.
                }
            }
            if (!process.waitFor(command.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor();
                outPump.join();
                errPump.join();
                throw new CommandFailedException(command, -1, err.toString(),
                        "timed out after " + command.timeout().toSeconds() + "s");
            }
            outPump.join();
            errPump.join();
        } catch (InterruptedException e) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new CommandFailedException(command, -1, err.toString(), "interrupted");
        }
        CommandResult result = new CommandResult(process.exitValue(), out.toByteArray(), err.toByteArray());
        if (!result.succeeded() && !command.allowFailure()) {
            throw new CommandFailedException(command, result.exitCode(), result.stderrText(),
                    "exit code " + result.exitCode());
        }
        return result;
    }

    private static Thread pump(InputStream from, ByteArrayOutputStream to, Consumer<String> lines) {
        Thread t = new Thread(() -> {
            try (from) {
                if (lines == null) {
                    from.transferTo(to);
                    return;
                }
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                byte[] buf = new byte[8192];
                int n;
                while ((n = from.read(buf)) > 0) {
                    to.write(buf, 0, n);
                    for (int i = 0; i < n; i++) {
                        if (buf[i] == '\n') {
                            deliver(lines, line);
                        } else if (line.size() < MAX_LINE) {
                            line.write(buf[i]);
                        }
                    }
                }
                if (line.size() > 0) {
                    deliver(lines, line);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, "command-output");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** A listener's failure must not stop the capture, or the program would block on a full pipe. */
    private static void deliver(Consumer<String> lines, ByteArrayOutputStream line) {
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        try {
            lines.accept(text.endsWith("\r") ? text.substring(0, text.length() - 1) : text);
        } catch (RuntimeException e) {
            // Progress only; the captured output still has the line.
        }
    }
}
