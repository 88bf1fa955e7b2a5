package dev.banger.vmm.firecracker;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real banger-init in agent mode on a Unix socket ({@code banger-init agent --listen unix:PATH}), standing in
 * for the guest behind the fake Firecracker's vsock. The binary is at system property {@code banger.init.binary}
 * (set by surefire). {@link #close()} kills it and whatever it started.
 */
final class HostAgent implements AutoCloseable {

    private final Process process;
    private final Path socket;
    private final Path log;

    private HostAgent(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
    }

    static Path binary() {
        String prop = System.getProperty("banger.init.binary");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        try {
            Path testClasses = Path.of(HostAgent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return testClasses.getParent().resolve("guest").resolve("banger-init");
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static HostAgent start(Path dir) throws IOException, InterruptedException {
        Path binary = binary();
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException("banger-init not built at " + binary + " (run mvn generate-resources)");
        }
        Path socket = dir.resolve("agent.sock");
        Path log = dir.resolve("agent.log");
        Process p = new ProcessBuilder(List.of(binary.toString(), "agent", "--listen", "unix:" + socket))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        HostAgent agent = new HostAgent(p, socket, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(socket)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                agent.close();
                throw new IllegalStateException("banger-init did not listen on " + socket + ": " + Files.readString(log));
            }
            Thread.sleep(5);
        }
        return agent;
    }

    Path socket() {
        return socket;
    }

    @Override
    public void close() throws InterruptedException {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        if (!process.waitFor(2, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(2, TimeUnit.SECONDS);
        }
        children.forEach(ProcessHandle::destroyForcibly);
    }
}
