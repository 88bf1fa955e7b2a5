package dev.banger.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.testkit.BangerHome;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** bangerd as a process: one daemon per state dir, graceful SIGTERM. */
class BangerdIT {

    private BangerHome banger;

    @BeforeEach
    void setUp() throws Exception {
        banger = BangerHome.create();
    }

    @AfterEach
    void tearDown() throws Exception {
        banger.close();
    }

    @Test
    void aSecondDaemonOnTheSameStateDirRefusesClearly() throws Exception {
        Process first = banger.startDaemonProcess();
        try {
            awaitSocket();
            Process second = banger.startDaemonProcess();
            assertThat(second.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(second.exitValue()).isEqualTo(1);
            assertThat(banger.daemonTestOutput()).contains("bangerd: another bangerd (pid " + first.pid()
                    + ") is already running on state dir " + banger.stateDir() + "; stop it with: banger daemon stop");
            assertThat(first.isAlive()).as("the first daemon is unharmed").isTrue();
            assertThat(banger.banger("vm", "list").exitCode()).isZero();
        } finally {
            first.destroyForcibly();
        }
    }

    @Test
    void sigtermShutsDownCleanlyAndFreesTheStateDir() throws Exception {
        Process daemon = banger.startDaemonProcess();
        awaitSocket();

        daemon.destroy();

        assertThat(daemon.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(banger.socket()).as("the socket is removed on shutdown").doesNotExist();
        assertThat(Files.readString(banger.stateDir().resolve("logs/bangerd.log"))).contains("shutting down");
        Process next = banger.startDaemonProcess();
        try {
            awaitSocket();
            assertThat(next.isAlive()).as("the lock was released").isTrue();
        } finally {
            next.destroyForcibly();
        }
    }

    @Test
    void stagingLeftByADaemonKilledMidPull_isRemovedAtStart_andDaemonStopLeavesNoTmpfsDirectory() throws Exception {
        java.nio.file.Path scratch = java.nio.file.Path.of("/dev/shm/banger-"
                + Integer.toHexString(banger.stateDir().toString().hashCode()));
        java.nio.file.Path staged = banger.stateDir().resolve("tmp/staging-1/usr");
        try {
            Files.createDirectories(scratch.resolve("staging-2/etc"));
            Files.writeString(scratch.resolve("staging-2/etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
            Files.createDirectories(staged);
            Process daemon = banger.startDaemonProcess();
            try {
                awaitSocket();
                assertThat(scratch).as("tmpfs staging of the killed daemon, removed at start").doesNotExist();
                assertThat(staged.getParent()).as("disk staging of the killed daemon").doesNotExist();
                Files.createDirectories(scratch); // as a pull in flight leaves it

                assertThat(banger.banger("daemon", "stop").exitCode()).isZero();

                assertThat(daemon.waitFor(20, TimeUnit.SECONDS)).isTrue();
                assertThat(scratch).as("no /dev/shm/banger-* directory outlives daemon stop").doesNotExist();
            } finally {
                daemon.destroyForcibly();
            }
        } finally {
            dev.banger.testkit.TestAssets.deleteTree(scratch);
        }
    }

    private void awaitSocket() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(banger.socket())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("bangerd did not create its socket in 30s");
            }
            Thread.sleep(20);
        }
    }
}
