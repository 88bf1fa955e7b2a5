package dev.banger.guest;

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
final class AgentProcess implements AutoCloseable {

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
    static Path binary() {
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

    static AgentProcess start(Path dir) throws IOException, InterruptedException {
        Path binary = binary();
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException("banger-init not built at " + binary + " (run mvn generate-resources)");
        }
        Path socket = dir.resolve("agent.sock");
        Path log = dir.resolve("agent.log");
        Process p = new ProcessBuilder(List.of(binary.toString(), "agent", "--listen", "unix:" + socket, "--debug"))
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

    Path socket() {
        return socket;
    }

    AgentTransport transport() {
        return new UnixSocketTransport(socket);
    }

    AgentClient connect() throws IOException {
        return AgentClient.connect(transport(), Duration.ofSeconds(5));
    }

    SocketChannel rawSocket() throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        return ch;
    }

    Process process() {
        return process;
    }

    /** Kills the agent with SIGKILL (its children survive it; {@link #close()} still ends them). */
    void killHard() throws InterruptedException {
        process.descendants().forEach(seenChildren::add);
        process.destroyForcibly();
        process.waitFor(2, TimeUnit.SECONDS);
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Peak resident memory of the agent process in KiB (VmHWM). */
    long peakRssKib() throws IOException {
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
