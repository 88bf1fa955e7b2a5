package dev.banger.vmm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * A detached VMM process seen through {@code /proc}: it is not our child (it daemonized), so exit codes are not
 * available and a zombie left for a non-reaping init counts as exited.
 */
public final class VmmProcess {

    /**
     * One read of {@code /proc/<pid>/stat}.
     *
     * @param state the one-letter process state (R, S, D, Z, ...)
     * @param session the session id
     * @param startTicks start time in clock ticks since boot
     */
    public record Stat(char state, long session, long startTicks) {
        public boolean exited() {
            return state == 'Z' || state == 'X';
        }
    }

    private VmmProcess() {
    }

    public static Optional<Stat> stat(long pid) {
        String text;
        try {
            text = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
        // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
        String[] f = text.substring(text.lastIndexOf(')') + 2).split(" ");
        return Optional.of(new Stat(f[0].charAt(0), Long.parseLong(f[3]), Long.parseLong(f[19])));
    }

    /** True while the process that {@code handle} names runs (same PID and start time, not a zombie). */
    public static boolean running(long pid, long startTicks) {
        Optional<Stat> s = stat(pid);
        return s.isPresent() && !s.get().exited() && s.get().startTicks() == startTicks;
    }

    /**
     * The running process whose command line has {@code argument} as one of its arguments (a VMM names its
     * control socket on its command line, which is unique to one VM): how handles are found again when the
     * scratch file that recorded them is gone.
     */
    public static Optional<Long> findByArgument(String argument) {
        try (java.util.stream.Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(p -> hasArgument(p, argument))
                    .map(p -> Long.parseLong(p.getFileName().toString()))
                    .filter(pid -> stat(pid).map(s -> !s.exited()).orElse(false))
                    .findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static boolean hasArgument(Path proc, String argument) {
        try {
            String cmdline = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8);
            for (String arg : cmdline.split("\0")) {
                if (arg.contains(argument)) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return false; // Gone, or not ours to read.
        }
    }

    /** Polls until the process is gone or {@code timeout} passes. */
    public static boolean awaitGone(long pid, long startTicks, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (running(pid, startTicks)) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return !running(pid, startTicks);
            }
        }
        return true;
    }

    /** SIGTERM, wait up to {@code grace}, then SIGKILL and wait for it to take effect. */
    public static void terminate(long pid, long startTicks, Duration grace) {
        if (!running(pid, startTicks)) {
            return;
        }
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
        if (awaitGone(pid, startTicks, grace)) {
            return;
        }
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        if (!awaitGone(pid, startTicks, Duration.ofSeconds(10))) {
            throw new VmmException("process " + pid + " did not die after SIGKILL (stuck in the kernel?)");
        }
    }
}
