package dev.banger.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * bangerd started as systemd starts it from bangerd.socket: the listening socket already bound, handed over as
 * standard input ({@code StandardInput=socket}). {@code systemd-socket-activate --inetd} binds it and execs the
 * daemon with it as fd 0 (and 1), exactly that hand-over; the daemon must serve it, never replace or remove it,
 * and stop cleanly on SIGTERM ({@code systemctl stop}).
 */
class SocketActivationIT {

    private BangerHome banger;

    @BeforeEach
    void setUp() throws Exception {
        if (Files.isExecutable(Path.of("/usr/bin/systemd-socket-activate"))) {
            banger = BangerHome.create();
        } else {
            // Not a silent skip: .ci/run installs systemd, so CI always runs this.
            throw new org.opentest4j.TestAbortedException(
                    "systemd-socket-activate is not installed (apt-get install systemd); skipping");
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        if (banger != null) {
            banger.close();
        }
    }

    @Test
    void servesTheInheritedSocketAndLeavesItInPlaceOnSigterm() throws Exception {
        Path socket = banger.socket();
        Process daemon = activate(socket);
        try {
            Object inode = awaitSocket(socket);

            Result list = banger.banger("vm", "list");

            assertThat(list.exitCode()).as(list.output()).isZero();
            assertThat(banger.daemonPid()).as("the daemon holding the state is the one given the socket, not one "
                    + "the CLI started").contains(daemon.pid());
            assertThat(Files.getAttribute(socket, "unix:ino")).as("the same socket file: not unlinked and rebound")
                    .isEqualTo(inode);
            assertThat(Files.readString(banger.stateDir().resolve("logs/bangerd.log")))
                    .contains("listening on inherited socket " + socket);

            daemon.destroy(); // SIGTERM, as systemctl stop sends

            assertThat(daemon.waitFor(30, TimeUnit.SECONDS)).as("stops within 30 s").isTrue();
            assertThat(daemon.exitValue()).as("SIGTERM: the JVM's clean exit (SuccessExitStatus=143)").isEqualTo(143);
            assertThat(Files.readString(banger.stateDir().resolve("logs/bangerd.log"))).contains("shutting down");
            assertThat(socket).as("a socket the daemon did not create stays").exists();
            assertThat(Files.getAttribute(socket, "unix:ino")).isEqualTo(inode);
        } finally {
            daemon.destroyForcibly();
        }
    }

    @Test
    void aSocketBoundElsewhereIsRefusedWithWhatToSet() throws Exception {
        Path elsewhere = banger.home().resolve("other.sock");
        Process daemon = activate(elsewhere);
        try {
            awaitSocket(elsewhere);
            try (SocketChannel first = SocketChannel.open(UnixDomainSocketAddress.of(elsewhere))) {
                // The first connection starts the daemon, as with systemd.
                assertThat(daemon.waitFor(60, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(daemon.exitValue()).isEqualTo(1);
            assertThat(Files.readString(banger.home().resolve("bangerd-activated.out"))).contains(
                    "bangerd: the inherited socket is " + elsewhere + " but this daemon's socket is "
                            + banger.socket() + "; set ListenStream=" + banger.socket());
            assertThat(elsewhere).exists();
        } finally {
            daemon.destroyForcibly();
        }
    }

    /** systemd-socket-activate binds {@code socket} and execs bin/bangerd with it on fd 0, as systemd does. */
    private Process activate(Path socket) throws IOException {
        Files.createDirectories(banger.home().resolve("run"));
        Path out = banger.home().resolve("bangerd-activated.out");
        // Like systemd, it binds the socket at once and execs the daemon at the first connection, with a clean
        // environment but for what --setenv passes.
        List<String> argv = new ArrayList<>(List.of("/usr/bin/systemd-socket-activate", "--inetd",
                "--listen=" + socket, "--setenv=BANGER_HOME", "--setenv=BANGER_BUILD_DIR", "--setenv=PATH",
                // --inetd puts the socket on fd 1 too; the daemon's own output goes to a file, as to the journal.
                "/bin/sh", "-c", "exec \"$0\" >\"$1\" 2>&1", BangerHome.root().resolve("bin/bangerd").toString(),
                out.toString()));
        ProcessBuilder pb = new ProcessBuilder(banger.inNetns(argv));
        pb.environment().put("BANGER_HOME", banger.home().toString());
        String build = System.getProperty("banger.build.dir");
        pb.environment().put("BANGER_BUILD_DIR", build != null ? build : BangerHome.root().resolve("target").toString());
        pb.redirectErrorStream(true).redirectOutput(banger.home().resolve("activate.out").toFile());
        return pb.start();
    }

    private static Object awaitSocket(Path socket) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(socket)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("systemd-socket-activate did not bind " + socket + " in 30s");
            }
            Thread.sleep(20);
        }
        return Files.getAttribute(socket, "unix:ino");
    }
}
