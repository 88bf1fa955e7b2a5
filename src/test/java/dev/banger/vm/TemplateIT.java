package dev.banger.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.json.Json;
import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.TestAssets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Instant VMs (docs/snapshots.md) with real QEMU guests: the first VM boots and a template is built after it; the
 * next ones restore from it and take their own identity; the template's files are never written by a clone.
 */
@Tag("vm")
class TemplateIT {

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
    void aSecondVmRestoresFromTheTemplateTheFirstBootBuiltAndTakesItsOwnIdentity() throws Exception {
        Result first = ok(banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", "first"));
        assertThat(first.stderr()).contains("no template yet; building one after this boot");
        assertThat(started("first")).startsWith("booting");
        Map<?, ?> template = awaitTemplate();
        // Clones start well after the capture, so one that kept the template's clock would be far behind.
        java.time.Instant captured = java.time.Instant.parse((String) template.get("createdAt"));
        long wait = java.time.Duration.between(java.time.Instant.now(), captured.plusSeconds(20)).toMillis();
        if (wait > 0) {
            Thread.sleep(wait);
        }
        assertThat(template.get("image")).isEqualTo("busybox");
        assertThat(template.get("current")).isEqualTo(true);
        Path templateDir = banger.stateDir().resolve("templates").resolve((String) template.get("id"));
        String memoryBefore = sha256(templateDir.resolve("memory.ram"));
        String stateBefore = sha256(templateDir.resolve("device.state"));

        CompletableFuture<Result> a = CompletableFuture.supplyAsync(() ->
                banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", "alpha"));
        CompletableFuture<Result> b = CompletableFuture.supplyAsync(() ->
                banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", "bravo"));
        assertThat(ok(a.get(180, TimeUnit.SECONDS)).stderr()).contains("restored from template")
                .as("the busybox image has no sshd: personalise says so instead of listing it as applied")
                .contains("sshd not started: /usr/sbin/sshd is not in this image");
        ok(b.get(180, TimeUnit.SECONDS));
        for (String vm : List.of("alpha", "bravo")) {
            assertThat(started(vm)).as(vm).startsWith("restoring from template " + template.get("id").toString()
                    .substring(0, 12));
            assertThat(exec(vm, "hostname")).isEqualTo(vm);
            String ip = ip(vm);
            assertThat(exec(vm, "cat", "/sys/class/net/eth0/address")).as("the clone's own MAC")
                    .isEqualTo(macOf(ip));
            assertThat(exec(vm, "ip", "-4", "-o", "addr", "show", "dev", "eth0")).contains(ip + "/");
            assertThat(exec(vm, "sh", "-c", "grep ' /root ' /proc/mounts | cut -d' ' -f1")).isEqualTo("/dev/vdb");
            long before = System.currentTimeMillis() / 1000;
            long guestNow = Long.parseLong(exec(vm, "date", "+%s"));
            long after = System.currentTimeMillis() / 1000 + 1;
            // Within 2 s on an idle host; the clock is set "as of sending", so a guest that takes seconds to run
            // the request (both cores loaded by other builds) ends up that far behind. The template's clock would
            // be 20 s or more behind.
            assertThat(guestNow).as("the guest's clock is the host's, not the template's")
                    .isBetween(before - 5, after + 2);
        }
        assertThat(exec("alpha", "cat", "/proc/sys/kernel/random/uuid"))
                .as("the clones' RNGs were reseeded apart").isNotEqualTo(exec("bravo", "cat",
                        "/proc/sys/kernel/random/uuid"));
        ok(banger.banger("vm", "exec", "alpha", "--", "ping", "-c", "1", "-W", "5", ip("bravo")));
        ok(banger.banger("vm", "exec", "bravo", "--", "ping", "-c", "1", "-W", "5", ip("alpha")));

        assertThat(sha256(templateDir.resolve("memory.ram"))).as("clones never write the template's RAM")
                .isEqualTo(memoryBefore);
        assertThat(sha256(templateDir.resolve("device.state"))).isEqualTo(stateBefore);

        ok(banger.banger("vm", "create", "--cold", "--memory", "256M", "--disk", "64M", "charlie"));
        assertThat(started("charlie")).startsWith("booting");

        ok(banger.banger("vm", "delete", "--force", "first", "alpha", "bravo", "charlie"));
        assertThat(ok(banger.banger("template", "prune")).stdout()).contains("removed 0 templates");
        assertThat(ok(banger.banger("template", "prune", "--all")).stdout()).contains("removed 1 template");
        assertThat(templates()).isEmpty();
    }

    @Test
    void aDaemonKilledWhileItBuildsATemplateLeavesNothingTheNextOneDoesNotClean() throws Exception {
        ok(banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", "first"));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (templateBuilders().isEmpty()) {
            assertThat(System.nanoTime()).as("a template build starts after the first boot").isLessThan(end);
            Thread.sleep(50);
        }
        long daemon = banger.daemonPid().orElseThrow();
        ProcessHandle.of(daemon).ifPresent(ProcessHandle::destroyForcibly);
        ProcessHandle.of(daemon).ifPresent(p -> p.onExit().orTimeout(20, TimeUnit.SECONDS).join());
        assertThat(templateBuilders()).as("the template guest outlives the daemon (-daemonize)").isNotEmpty();

        assertThat(json(ok(banger.banger("vm", "show", "first", "--json"))).get("state")).isEqualTo("running");
        assertThat(templateBuilders()).as("reconcile killed the template guest").isEmpty();
        try (var left = Files.list(banger.stateDir().resolve("templates"))) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".building-"));
        }
        assertThat(banger.links()).as("the template guest's tap is gone").noneMatch(l -> l.startsWith("btt"));
        assertThat(exec("first", "hostname")).as("the VM that was running is adopted").isEqualTo("first");
    }

    private List<ProcessHandle> templateBuilders() {
        return banger.processesNow().stream()
                .filter(p -> p.info().command().orElse("").contains("qemu-system"))
                .filter(BangerHome::isTemplateBuild).toList();
    }


    private Map<?, ?> awaitTemplate() throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < end) {
            List<?> list = templates();
            if (!list.isEmpty()) {
                return (Map<?, ?>) list.get(0);
            }
            Thread.sleep(500);
        }
        throw new AssertionError("no template was built within 180 s");
    }

    private List<?> templates() {
        return (List<?>) json(ok(banger.banger("template", "list", "--json"))).get("templates");
    }

    private String started(String vm) {
        return (String) json(ok(banger.banger("vm", "show", vm, "--json"))).get("started");
    }

    private String exec(String vm, String... argv) {
        List<String> args = new java.util.ArrayList<>(List.of("vm", "exec", vm, "--"));
        args.addAll(List.of(argv));
        return ok(banger.banger(args.toArray(String[]::new))).stdout().trim();
    }

    private String ip(String vm) {
        return (String) json(ok(banger.banger("vm", "show", vm, "--json"))).get("guestIp");
    }

    private static String macOf(String ip) {
        String[] o = ip.split("\\.");
        return String.format("02:b4:6e:%02x:%02x:%02x", Integer.parseInt(o[1]), Integer.parseInt(o[2]),
                Integer.parseInt(o[3]));
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static Result ok(Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result;
    }

    private static Map<?, ?> json(Result result) {
        return (Map<?, ?>) Json.parseTree(result.stdout());
    }
}
