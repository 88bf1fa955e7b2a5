package dev.banger.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.config.BangerPaths;
import dev.banger.json.Json;
import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.TestAssets;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Many VM lifetimes leave nothing behind: no tap, no QEMU, no loop device, no file, no daemon descriptor. */
@Tag("vm")
class LeakIT {

    static final int CYCLES = 30;

    private BangerHome banger;

    @BeforeEach
    void setUp() throws Exception {
        banger = BangerHome.createWithBusyboxGuest();
    }

    @AfterEach
    void tearDown() throws Exception {
        banger.close();
    }

    @Test
    void createExecDeleteCyclesLeakNothing() throws Exception {
        cycle(0);
        long daemon = banger.daemonPid().orElseThrow();
        int fdsAfterFirst = openFds(daemon);

        for (int i = 1; i < CYCLES; i++) {
            cycle(i);
        }

        assertThat(banger.links()).as("taps").containsExactlyInAnyOrder("lo", "banger0");
        assertThat(banger.processes()).filteredOn(p -> p.info().command().orElse("").contains("qemu"))
                .as("QEMU processes").isEmpty();
        assertThat(loopDevicesNaming(banger.home())).as("loop devices").isEmpty();
        // network/ holds the marker that bangerd turned IPv4 forwarding on for guest NAT, templates/ the template
        // the first boot built (docs/snapshots.md): state, not leaks.
        assertThat(children(banger.stateDir())).as("state dir").isSubsetOf(Set.of("banger.db", "banger.db-wal",
                "banger.db-shm", "bangerd.lock", "logs", "images", "kernels", "vms", "blobs", "tmp", "network",
                "templates"));
        assertThat(children(banger.stateDir().resolve("templates"))).as("templates: one, and no unfinished build")
                .allMatch(n -> n.equals("digests.json") || n.matches("[0-9a-f]{64}")).hasSizeLessThanOrEqualTo(2);
        Path marker = new BangerPaths(banger.stateDir(), banger.home(), banger.home()).natForwardingMarker();
        assertThat(children(marker.getParent())).as("network state")
                .isSubsetOf(Set.of(marker.getFileName().toString()));
        assertThat(children(banger.stateDir().resolve("vms"))).as("VM dirs").isEmpty();
        assertThat(children(banger.home().resolve("run/vms"))).as("VM sockets").isEmpty();
        assertThat(openFds(daemon)).as("daemon descriptors after %d cycles (after one: %d)", CYCLES, fdsAfterFirst)
                .isLessThanOrEqualTo(fdsAfterFirst + 5);
        assertThat(banger.daemonPid()).as("one daemon all along").contains(daemon);
    }

    private void cycle(int i) {
        String name = "leak-" + i;
        ok(banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", name));
        assertThat(ok(banger.banger("vm", "exec", name, "--", "echo", "cycle-" + i)).stdout())
                .isEqualTo("cycle-" + i + "\n");
        ok(banger.banger("vm", "delete", "--force", name));
    }

    private static int openFds(long pid) throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return (int) fds.count();
        }
    }


    private static List<String> loopDevicesNaming(Path home) throws Exception {
        Process p = new ProcessBuilder("losetup", "-a").start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        return out.lines().filter(l -> l.contains(home.toString())).toList();
    }

    private static List<String> children(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    private static Result ok(Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result;
    }
}
