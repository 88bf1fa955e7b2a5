package dev.banger.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.json.Json;
import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.TestAssets;
import dev.banger.vmm.VmmProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** kill -9 of the daemon (and of VMMs) never leaks or orphans anything; the next daemon adopts or cleans up. */
@Tag("vm")
class ReconcileIT {

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
    void aRunningVmSurvivesTheDaemonsDeathAndIsAdopted() throws Exception {
        ok(banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", "keeper"));
        long qemu = pid("keeper");

        killDaemon();

        assertThat(ok(banger.banger("vm", "exec", "keeper", "--", "echo", "still-here")).stdout())
                .as("the next command restarts the daemon, which adopts the VM").isEqualTo("still-here\n");
        Map<?, ?> vm = show("keeper");
        assertThat(vm.get("state")).isEqualTo("running");
        assertThat(vm.get("pid")).isEqualTo(qemu);
    }

    @Test
    void aVmWhoseVmmDiedWithTheDaemonIsDemotedAndCleanedUp() throws Exception {
        ok(banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", "victim"));
        long qemu = pid("victim");
        String id = (String) show("victim").get("id");

        killDaemon();
        ProcessHandle.of(qemu).ifPresent(ProcessHandle::destroyForcibly);
        waitGone(qemu);

        Map<?, ?> vm = show("victim");
        assertThat(vm.get("state")).isEqualTo("stopped");
        assertThat((String) vm.get("lastError")).contains("stopped by reconcile", "pid " + qemu, "was gone");
        assertThat(banger.links()).as("its tap was removed").doesNotContain("bt" + id);
        assertThat(banger.home().resolve("run/vms/" + id)).as("its sockets were removed").doesNotExist();
        ok(banger.banger("vm", "start", "victim"));
        assertThat(ok(banger.banger("vm", "exec", "victim", "--", "true")).exitCode()).isZero();
    }

    @Test
    void corruptHandlesAreRebuiltFromTheRunningVmm() throws Exception {
        ok(banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", "scrambled"));
        long qemu = pid("scrambled");
        Path handles = Path.of((String) show("scrambled").get("vmDir")).resolve("handles.json");

        killDaemon();
        Files.writeString(handles, "{not json at all");

        Map<?, ?> vm = show("scrambled");
        assertThat(vm.get("state")).isEqualTo("running");
        assertThat(vm.get("pid")).isEqualTo(qemu);
        assertThat(ok(banger.banger("vm", "exec", "scrambled", "--", "echo", "ok")).stdout()).isEqualTo("ok\n");
        ok(banger.banger("vm", "delete", "--force", "scrambled"));
        waitGone(qemu);
    }

    @Test
    void missingHandlesAndADeadVmmEndStopped() throws Exception {
        ok(banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", "lost"));
        long qemu = pid("lost");
        Path handles = Path.of((String) show("lost").get("vmDir")).resolve("handles.json");

        killDaemon();
        Files.delete(handles);
        ProcessHandle.of(qemu).ifPresent(ProcessHandle::destroyForcibly);
        waitGone(qemu);

        Map<?, ?> vm = show("lost");
        assertThat(vm.get("state")).isEqualTo("stopped");
        assertThat((String) vm.get("lastError")).contains("handles were missing or unreadable");
        assertThat(banger.processes()).filteredOn(p -> p.info().command().orElse("").contains("qemu")).isEmpty();
    }

    private void killDaemon() throws Exception {
        long pid = banger.daemonPid().orElseThrow();
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        waitGone(pid);
    }

    private static void waitGone(long pid) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (VmmProcess.stat(pid).map(s -> !s.exited()).orElse(false)) {
            assertThat(System.nanoTime()).as("pid " + pid + " exits").isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private long pid(String vm) {
        return (Long) show(vm).get("pid");
    }

    private Map<?, ?> show(String vm) {
        return (Map<?, ?>) Json.parseTree(ok(banger.banger("vm", "show", vm, "--json")).stdout());
    }


    private static Result ok(Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result;
    }

}
