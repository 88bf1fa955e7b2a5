package dev.banger.testkit;

import dev.banger.guest.AgentClient;
import dev.banger.guest.AgentTransport;
import dev.banger.guest.UnixSocketTransport;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.URISyntaxException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real banger-init, built by Maven into {@code <build.dir>/guest/banger-init}, running in agent mode on a Unix
 * socket in a test's temp dir. {@link #close()} kills it and everything it started.
 */
public final class AgentProcess implements AutoCloseable {

    private final Process process;
    private final java.util.Set<ProcessHandle> seenChildren = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Path socket;
    private final Path log;

    private AgentProcess(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
    }

    /** The binary: system property {@code banger.init.binary} (set by surefire), else next to test-classes. */
    public static Path binary() {
        String prop = System.getProperty("banger.init.binary");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        try {
            Path testClasses = Path.of(AgentProcess.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return testClasses.getParent().resolve("guest").resolve("banger-init");
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static AgentProcess start(Path dir) throws IOException, InterruptedException {
        return start(dir, dir.resolve("agent.sock"), List.of());
    }

    /** Listens on {@code socket}; the log goes in {@code dir}. */
    public static AgentProcess start(Path dir, Path socket) throws IOException, InterruptedException {
        return start(dir, socket, List.of());
    }

    /** As {@link #start(Path)}, with {@code extraArgs} after banger-init's own (e.g. {@code --guest-root DIR}). */
    public static AgentProcess start(Path dir, List<String> extraArgs) throws IOException, InterruptedException {
        return start(dir, dir.resolve("agent.sock"), extraArgs);
    }

    private static AgentProcess start(Path dir, Path socket, List<String> extraArgs)
            throws IOException, InterruptedException {
        Path binary = binary();
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException("banger-init not built at " + binary + " (run mvn generate-resources)");
        }
        Path log = dir.resolve("agent.log");
        // ssh.authorize edits this home's .ssh, never the host's /root.
        Files.createDirectories(dir.resolve("home"));
        List<String> argv = new java.util.ArrayList<>(List.of(binary.toString(), "agent", "--listen",
                "unix:" + socket, "--home", dir.resolve("home").toString(), "--debug"));
        argv.addAll(extraArgs);
        Process p = new ProcessBuilder(argv)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        AgentProcess agent = new AgentProcess(p, socket, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!Files.exists(socket)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                agent.close();
                throw new IllegalStateException("banger-init did not start listening on " + socket + ": "
                        + Files.readString(log));
            }
            Thread.sleep(5);
        }
        return agent;
    }

    public Path socket() {
        return socket;
    }

    public AgentTransport transport() {
        return new UnixSocketTransport(socket);
    }

    public AgentClient connect() throws IOException {
        return AgentClient.connect(transport(), Duration.ofSeconds(5));
    }

    public SocketChannel rawSocket() throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        return ch;
    }

    public Process process() {
        return process;
    }

    /** Kills the agent with SIGKILL (its children survive it; {@link #close()} still ends them). */
    public void killHard() throws InterruptedException {
        process.descendants().forEach(seenChildren::add);
        process.destroyForcibly();
        process.waitFor(2, TimeUnit.SECONDS);
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Peak resident memory of the agent process in KiB (VmHWM). */
    public long peakRssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmHWM for pid " + process.pid());
    }

    @Override
    public void close() throws InterruptedException {
        process.descendants().forEach(seenChildren::add);
        process.destroy();
        if (!process.waitFor(2, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(2, TimeUnit.SECONDS);
        }
        seenChildren.forEach(ProcessHandle::destroyForcibly);
    }
}
