package dev.banger.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.json.Json;
import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.TestAssets;
import dev.banger.vmm.qemu.QmpClient;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A VM whose files live on a small tmpfs (mounted over its directory inside the test's BANGER_HOME) fills it from
 * the guest: QEMU pauses the guest on ENOSPC (its default werror=enospc), and banger must say so, refuse guest
 * calls at once with the reason, resume the guest when space is back, resume it on demand, and stop it promptly.
 */
@Tag("vm")
class DiskFullPauseIT {

    /** Large enough for a boot's free-space check (256 MiB); a ballast file then takes all but a little. */
    private static final String TMPFS_SIZE = "320m";
    private static final long LEFT_FREE = 16L << 20;
    /** More than is left free, less than what deleting the ballast frees. */
    private static final int FILL_MIB = 48;
    private static final Duration PAUSE_WAIT = Duration.ofSeconds(120);

    private BangerHome banger;
    private Path vmDir;
    private boolean mounted;

    @BeforeEach
    void setUp() throws Exception {
        banger = BangerHome.create();
        ok(banger.banger("kernel", "import", "cloud", "--deb", TestAssets.debianCloudKernelDeb().toString()));
        ok(banger.banger("image", "register", "busybox", "--rootfs", TestAssets.busyboxRootfs().toString()));
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (mounted) {
                banger.banger("vm", "stop", "--force", "filler"); // QEMU holds files on the tmpfs
                run(List.of("umount", "-l", vmDir.toString()));
            }
        } finally {
            banger.close();
        }
    }

    @Test
    void aGuestPausedByAFullHostDiskSaysWhyRefusesCallsAtOnceResumesWhenSpaceIsBackAndStopsPromptly()
            throws Exception {
        ok(banger.banger("vm", "create", "--no-start", "--memory", "256M", "--disk", "256M", "filler"));
        vmDir = Path.of((String) show("filler").get("vmDir"));
        // The daemon runs in a mount namespace of its own (ip netns exec), copied from the host's when it starts
        // and private since: mount first, then let the next command start a daemon that sees the tmpfs.
        ok(banger.banger("daemon", "stop"));
        moveOntoSmallTmpfs(vmDir);
        ok(banger.banger(Duration.ofSeconds(180), "vm", "start", "filler"));

        Path ballast = vmDir.resolve("ballast");
        fillLeaving(ballast, LEFT_FREE);
        Path fillLog = banger.home().resolve("fill.out");
        Process fill = banger.start(fillLog, "vm", "exec", "filler", "--", "sh", "-c",
                "dd if=/dev/zero of=/root/fill bs=1M count=" + FILL_MIB + " conv=fsync && echo filled");

        Map<?, ?> paused = awaitShow("filler", vm -> "paused".equals(vm.get("state")), PAUSE_WAIT);
        assertThat(paused.get("pauseReason")).isEqualTo("host disk full");
        assertThat((String) paused.get("pauseDetail")).contains("No space left on device", "resumes by itself");
        assertThat(ok(banger.banger("vm", "list")).stdout()).contains("paused: host disk full");

        long t0 = System.nanoTime();
        Result refused = banger.banger(Duration.ofSeconds(20), "vm", "exec", "filler", "--", "true");
        System.out.printf("DiskFullPauseIT: exec on the paused VM refused in %d ms%n", millisSince(t0));
        assertThat(refused.exitCode()).as("exec on a paused VM fails (within the 20 s limit) instead of hanging")
                .isNotZero();
        assertThat(refused.stderr()).contains("VM 'filler' is paused: host disk full", "banger vm resume filler");

        Files.delete(ballast);
        awaitShow("filler", vm -> "running".equals(vm.get("state")) && vm.get("pauseReason") == null,
                Duration.ofSeconds(30));
        assertThat(fill.waitFor(90, TimeUnit.SECONDS)).as("the guest's write finishes once resumed").isTrue();
        assertThat(fill.exitValue()).as(Files.readString(fillLog)).isZero();
        assertThat(Files.readString(fillLog)).contains("filled");
        assertThat(ok(banger.banger("vm", "exec", "filler", "--", "echo", "ok")).stdout()).isEqualTo("ok\n");

        // A pause through QEMU's monitor is not a full disk: it lasts until vm resume ends it.
        try (QmpClient qmp = QmpClient.connect(controlSocket("filler"), Duration.ofSeconds(5))) {
            qmp.execute("stop", Duration.ofSeconds(5));
        }
        Map<?, ?> stopped = awaitShow("filler", vm -> "paused".equals(vm.get("state")), Duration.ofSeconds(10));
        assertThat(stopped.get("pauseReason")).isEqualTo("paused through the VMM's monitor");
        assertThat(ok(banger.banger("vm", "resume", "filler")).stdout()).isEqualTo("filler running\n");
        assertThat(ok(banger.banger("vm", "exec", "filler", "--", "echo", "ok")).stdout()).isEqualTo("ok\n");

        // Full again, for good this time: stop does not wait for a guest that cannot run.
        fillLeaving(ballast, LEFT_FREE);
        Process again = banger.start(banger.home().resolve("fill2.out"), "vm", "exec", "filler", "--", "sh", "-c",
                "dd if=/dev/zero of=/root/fill2 bs=1M count=" + FILL_MIB + " conv=fsync");
        awaitShow("filler", vm -> "paused".equals(vm.get("state")), PAUSE_WAIT);
        long t1 = System.nanoTime();
        Result stop = banger.banger(Duration.ofSeconds(12), "vm", "stop", "filler");
        System.out.printf("DiskFullPauseIT: stop of the paused VM took %d ms%n", millisSince(t1));
        assertThat(stop.exitCode()).as(stop.output()).isZero();
        assertThat(stop.stderr()).contains("the guest is paused (host disk full) and cannot power off");
        assertThat(show("filler").get("state")).isEqualTo("stopped");
        assertThat(again.waitFor(30, TimeUnit.SECONDS)).as("the exec in flight ends with its VM").isTrue();
    }

    /** The VM's files move onto a tmpfs of {@link #TMPFS_SIZE} mounted over its directory. */
    private void moveOntoSmallTmpfs(Path dir) throws Exception {
        Path aside = Files.createTempDirectory(banger.home(), "aside-");
        run(List.of("cp", "-a", "--sparse=always", dir + "/.", aside.toString()));
        run(List.of("sh", "-c", "rm -rf -- \"$1\"/* \"$1\"/.[!.]*", "sh", dir.toString()));
        run(List.of("mount", "-t", "tmpfs", "-o", "size=" + TMPFS_SIZE + ",mode=0755", "banger-test-full",
                dir.toString()));
        mounted = true;
        run(List.of("cp", "-a", "--sparse=always", aside + "/.", dir.toString()));
        run(List.of("rm", "-rf", "--", aside.toString()));
    }

    /** Writes {@code file} until the filesystem holding it has only {@code free} bytes left. */
    private static void fillLeaving(Path file, long free) throws IOException {
        long size = Files.getFileStore(file.getParent()).getUsableSpace() - free;
        ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (long written = 0; written < size; ) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), size - written));
                written += ch.write(chunk);
            }
        }
    }

    private Path controlSocket(String vm) {
        return banger.home().resolve("run/vms").resolve((String) show(vm).get("id")).resolve("control.sock");
    }

    private Map<?, ?> awaitShow(String vm, Predicate<Map<?, ?>> condition, Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        Map<?, ?> last = show(vm);
        while (!condition.test(last)) {
            assertThat(System.nanoTime() - deadline).as("VM %s within %ss, last seen: %s", vm, limit.toSeconds(),
                    last).isNegative();
            Thread.sleep(250);
            last = show(vm);
        }
        return last;
    }

    private Map<?, ?> show(String vm) {
        return (Map<?, ?>) Json.parseTree(ok(banger.banger("vm", "show", vm, "--json")).stdout());
    }

    private static void run(List<String> argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", argv) + ": " + out).isZero();
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static Result ok(Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result;
    }
}
