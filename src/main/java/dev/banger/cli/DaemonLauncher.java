package dev.banger.cli;

import dev.banger.api.Api;
import dev.banger.api.BangerException;
import dev.banger.api.DaemonStatus;
import dev.banger.api.Empty;
import dev.banger.config.BangerPaths;
import dev.banger.host.Executables;
import dev.banger.rpc.DaemonNotRunningException;
import dev.banger.rpc.RpcClient;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Starts {@code bangerd} detached from the CLI (its own session, output to a log file) and waits until it
 * answers, with a deadline and an error that points at the log.
 */
final class DaemonLauncher {

    /**
     * JVM options for a daemon the CLI starts; {@code BANGER_DAEMON_JAVA_OPTS} replaces them. A small, shrinking
     * heap and C1 only: the daemon's work is processes and sockets, and its footprint stays with every VM.
     */
    private static final List<String> DAEMON_JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-Xss512k", "-Xms16m",
            "-Xmx384m", "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30", "-XX:TieredStopAtLevel=1",
            "-XX:ReservedCodeCacheSize=48m", "-Xshare:auto");
    static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    static final long CONSOLE_LOG_ROTATE_BYTES = 1024 * 1024;

    private final BangerPaths paths;

    DaemonLauncher(BangerPaths paths) {
        this.paths = paths;
    }

    /** The running daemon's status, or empty when none answers. */
    Optional<DaemonStatus> status() {
        try {
            return Optional.of(new RpcClient(paths.socket()).call(Api.DAEMON_STATUS, Empty.INSTANCE));
        } catch (DaemonNotRunningException e) {
            return Optional.empty();
        }
    }

    /** Starts a daemon and waits for it; returns its status. */
    DaemonStatus start() {
        Process process = spawn();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<DaemonStatus> status = status();
            if (status.isPresent()) {
                return status.get();
            }
            if (!process.isAlive()) {
                // It may have lost a start race to another CLI's daemon, which then answers.
                Optional<DaemonStatus> other = status();
                if (other.isPresent()) {
                    return other.get();
                }
                throw BangerException.unavailable("bangerd exited with code " + process.exitValue()
                        + " during start-up: " + lastLine(paths.daemonConsoleLog()) + " (see "
                        + paths.daemonConsoleLog() + " and " + paths.daemonLog() + ")");
            }
            sleep(25);
        }
        throw BangerException.unavailable("bangerd did not become ready within " + START_TIMEOUT.toSeconds()
                + "s; see " + paths.daemonLog() + " and " + paths.daemonConsoleLog());
    }

    private Process spawn() {
        List<String> argv = new ArrayList<>();
        Executables.fromEnvironment().find("setsid").ifPresent(setsid -> argv.add(setsid.toString()));
        argv.add(javaCommand());
        String opts = System.getenv("BANGER_DAEMON_JAVA_OPTS");
        if (opts != null && !opts.isBlank()) {
            argv.addAll(List.of(opts.trim().split("\\s+")));
        } else {
            argv.addAll(DAEMON_JVM_OPTIONS);
        }
        argv.add("-cp");
        argv.add(System.getProperty("java.class.path"));
        argv.add("dev.banger.daemon.Bangerd");
        try {
            Files.createDirectories(paths.logDir());
            rotateIfLarge(paths.daemonConsoleLog());
            ProcessBuilder pb = new ProcessBuilder(argv);
            // Image layers carry non-ASCII file names; the JVM encodes file names with the locale's charset.
            pb.environment().put("LC_ALL", "C.UTF-8");
            // Each thread that mallocs would get a glibc arena of its own; two are plenty for the daemon.
            pb.environment().putIfAbsent("MALLOC_ARENA_MAX", "2");
            pb
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(paths.daemonConsoleLog().toFile()))
                    .redirectErrorStream(true);
            return pb.start();
        } catch (IOException e) {
            throw BangerException.unavailable("cannot start bangerd (" + String.join(" ", argv) + "): "
                    + e.getMessage());
        }
    }

    /**
     * The java of the runtime this CLI runs on. Not this process's own command: in the package that is the CLI's
     * native launcher (jpackage), which would take the daemon's options as banger arguments.
     */
    private static String javaCommand() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        if (Files.isExecutable(java)) {
            return java.toString();
        }
        return ProcessHandle.current().info().command().orElse(java.toString());
    }

    /**
     * Keeps {@code bangerd.out} (appended to by every daemon the CLI starts; each run writes at most a MiB to it)
     * bounded: past {@link #CONSOLE_LOG_ROTATE_BYTES} it becomes {@code bangerd.out.1}, replacing the previous one.
     */
    static void rotateIfLarge(Path consoleLog) throws IOException {
        try {
            if (Files.size(consoleLog) > CONSOLE_LOG_ROTATE_BYTES) {
                Files.move(consoleLog, consoleLog.resolveSibling(consoleLog.getFileName() + ".1"),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (java.nio.file.NoSuchFileException e) {
            // Nothing to rotate.
        }
    }

    private static String lastLine(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            for (int i = lines.size() - 1; i >= 0; i--) {
                if (!lines.get(i).isBlank()) {
                    return lines.get(i).strip();
                }
            }
        } catch (IOException ignored) {
            // Fall through: the caller names the log anyway.
        }
        return "no output";
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw BangerException.unavailable("interrupted while waiting for bangerd");
        }
    }
}
