package dev.banger.host;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;

/** The real {@link CommandRunner}: starts the program with {@link ProcessBuilder}. */
public final class ProcessCommandRunner implements CommandRunner {

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
        Thread outPump = pump(process.getInputStream(), out);
        Thread errPump = pump(process.getErrorStream(), err);
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

    private static Thread pump(InputStream from, ByteArrayOutputStream to) {
        Thread t = new Thread(() -> {
            try (from) {
                from.transferTo(to);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, "command-output");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
