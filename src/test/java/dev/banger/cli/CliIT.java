package dev.banger.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.json.Json;
import dev.banger.testkit.BangerHome;
import dev.banger.testkit.FakeKernel;
import dev.banger.testkit.BangerHome.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The real bin/banger, as a user runs it, against an isolated BANGER_HOME. */
class CliIT {

    private BangerHome banger;

    @BeforeEach
    void setUp() throws Exception {
        banger = BangerHome.create();
    }

    /** A kernel and an image for VM records that are never booted. */
    private void kernelAndImage() throws Exception {
        Path kernel = FakeKernel.write(banger.home().resolve("vmlinuz"));
        Path rootfs = FakeKernel.writeRootfs(banger.home().resolve("rootfs.ext4"));
        assertThat(banger.banger("kernel", "import", "fake", "--kernel", kernel.toString()).exitCode()).isZero();
        assertThat(banger.banger("image", "register", "tiny", "--rootfs", rootfs.toString()).exitCode()).isZero();
    }

    @AfterEach
    void tearDown() throws Exception {
        banger.close();
    }

    @Test
    void firstCommandStartsTheDaemonWithAPrivateSocket() throws Exception {
        assertThat(Files.exists(banger.socket())).isFalse();

        Result list = banger.banger("vm", "list", "--json");

        assertThat(list.exitCode()).as(list.output()).isZero();
        assertThat(Json.parseTree(list.stdout())).isEqualTo(Map.of("vms", List.of()));
        assertThat(perms(banger.socket())).isEqualTo("rw-------");
        assertThat(perms(banger.socket().getParent())).isEqualTo("rwx------");
        Result status = banger.banger("daemon", "status", "--json");
        assertThat(status.exitCode()).isZero();
        assertThat(((Map<?, ?>) Json.parseTree(status.stdout())).get("running")).isEqualTo(true);
        assertThat(banger.stateDir().resolve("logs/bangerd.log")).exists();
    }

    @Test
    void registerWarnsAboutAnImageWithoutAProgramAndTablesShowHumanSizes() throws Exception {
        Path empty = FakeKernel.writeRootfs(banger.home().resolve("empty.ext4"));
        Path notExt4 = banger.home().resolve("not.ext4");
        Files.write(notExt4, new byte[1 << 20]);

        Result emptyImage = banger.banger("image", "register", "empty", "--rootfs", empty.toString());
        Result busybox = banger.banger("image", "register", "busybox", "--rootfs",
                dev.banger.testkit.TestAssets.busyboxRootfs().toString());
        Result refused = banger.banger("image", "register", "junk", "--rootfs", notExt4.toString());

        assertThat(emptyImage.exitCode()).as(emptyImage.output()).isZero();
        assertThat(emptyImage.stderr()).as("a warning, not a failure").contains("warning: " + empty
                + " has no program to run commands with (/bin/sh does not exist; /sbin/init does not exist)");
        assertThat(emptyImage.stdout()).isEqualTo("empty registered (4.0M)\n");
        assertThat(busybox.exitCode()).as(busybox.output()).isZero();
        assertThat(busybox.stderr()).doesNotContain("warning");
        assertThat(refused.exitCode()).as("bad input is a usage error").isEqualTo(2);
        assertThat(refused.stderr()).contains("is not an ext4 file system");
        assertThat(banger.banger("image", "list").stdout()).containsPattern("(?m)^busybox +64M ")
                .containsPattern("(?m)^empty +4.0M ");
        List<?> images = (List<?>) ((Map<?, ?>) Json.parseTree(banger.banger("image", "list", "--json").stdout()))
                .get("images");
        assertThat(images.stream().map(i -> String.valueOf(((Map<?, ?>) i).get("sizeBytes")))).as("bytes in --json")
                .containsExactlyInAnyOrder(String.valueOf(4L << 20), String.valueOf(64L << 20));
    }

    @Test
    void createListShowDeleteARecord() throws Exception {
        kernelAndImage();
        Result create = banger.banger("vm", "create", "--no-start", "--cpus", "3", "--memory", "768M", "--disk",
                "2G", "demo");
        assertThat(create.exitCode()).as(create.output()).isZero();
        assertThat(create.stdout()).isEqualTo("demo created\n");

        Map<?, ?> listed = (Map<?, ?>) ((List<?>) ((Map<?, ?>) Json.parseTree(banger.banger("vm", "list", "--json")
                .stdout())).get("vms")).get(0);
        assertThat(listed.get("name")).isEqualTo("demo");
        assertThat(listed.get("state")).isEqualTo("created");
        assertThat(listed.get("dnsName")).isEqualTo("demo.vm");
        assertThat(listed.get("cpus")).isEqualTo(3L);
        assertThat(listed.get("memoryMib")).isEqualTo(768L);
        assertThat(listed.get("diskMib")).isEqualTo(2048L);
        Path vmDir = Path.of((String) listed.get("vmDir"));
        assertThat(vmDir).isDirectory().startsWith(banger.stateDir());

        Result table = banger.banger("vm", "list");
        assertThat(table.stdout()).startsWith("NAME").containsPattern("demo\\s+created\\s+qemu\\s+tiny");
        Result show = banger.banger("vm", "show", "demo");
        assertThat(show.stdout()).contains("dns:").contains("demo.vm").contains("state:").contains("created");

        Result delete = banger.banger("vm", "delete", "demo");
        assertThat(delete.exitCode()).as(delete.output()).isZero();
        assertThat(delete.stdout()).isEqualTo("deleted demo\n");
        assertThat(vmDir).doesNotExist();
        assertThat(banger.banger("vm", "list", "--json").stdout()).contains("\"vms\": []");
    }

    @Test
    void duplicateNamesAreRefusedWithOneLine() throws Exception {
        kernelAndImage();
        assertThat(banger.banger("vm", "create", "--no-start", "twin").exitCode()).isZero();

        Result again = banger.banger("vm", "create", "--no-start", "twin");

        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.stderr()).isEqualTo("banger: a VM named 'twin' already exists; pick another name or "
                + "delete it first (banger vm delete twin)\n");
        assertThat(again.stdout()).isEmpty();
    }

    @Test
    void badInputGetsOneClearLine_usageErrorsExitTwo_missingThingsOne() throws Exception {
        kernelAndImage();
        Result badName = banger.banger("vm", "create", "--no-start", "Bad_Name");
        assertThat(badName.exitCode()).as("a usage error").isEqualTo(2);
        assertThat(badName.stderr()).startsWith("banger: invalid VM name 'Bad_Name'").hasLineCount(1);

        Result badMemory = banger.banger("vm", "create", "--no-start", "--memory", "lots", "ok");
        assertThat(badMemory.exitCode()).isEqualTo(2);
        assertThat(badMemory.stderr()).startsWith("banger: --memory lots is not a size").hasLineCount(1);

        Result missing = banger.banger("vm", "show", "ghost");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.stderr()).isEqualTo("banger: no such VM: ghost; see: banger vm list\n");

        Result unknownImage = banger.banger("vm", "create", "--no-start", "--image", "nope", "x");
        assertThat(unknownImage.exitCode()).isEqualTo(1);
        assertThat(unknownImage.stderr()).isEqualTo("banger: no such image: nope; see: banger image list\n");

        Result unknownVmm = banger.banger("vm", "run", "--vmm", "xen", "--no-workspace", "--", "true");
        assertThat(unknownVmm.exitCode()).as(unknownVmm.output()).isEqualTo(2);
        assertThat(unknownVmm.stderr()).as("vm run passes --vmm on to the create")
                .isEqualTo("banger: unknown VMM 'xen': use qemu or firecracker\n");

        assertThat(banger.banger("vm", "list", "--json").stdout()).as("nothing was stored").contains("[]");
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertThat(banger.banger("vm", "explode").exitCode()).isEqualTo(2);
        assertThat(banger.banger("vm", "create").exitCode()).isEqualTo(2);
        assertThat(banger.banger("vm", "create", "--cpus", "two", "x").exitCode()).isEqualTo(2);
        assertThat(banger.banger("vm", "create", "--no-start", "--cpus", "0", "x").exitCode())
                .as("a value out of range, refused by the daemon").isEqualTo(2);
        assertThat(banger.banger().exitCode()).isEqualTo(2);
        assertThat(banger.banger("--bogus").exitCode()).isEqualTo(2);
    }

    @Test
    void everySpecCommandHasHelp() {
        List<List<String>> commands = List.of(List.of("doctor"), List.of("daemon", "start"),
                List.of("daemon", "stop"), List.of("daemon", "status"), List.of("vm", "create"),
                List.of("vm", "start"), List.of("vm", "stop"), List.of("vm", "resume"), List.of("vm", "restart"),
                List.of("vm", "delete"),
                List.of("vm", "list"), List.of("vm", "show"), List.of("vm", "set"), List.of("vm", "run"),
                List.of("vm", "exec"), List.of("vm", "ssh"), List.of("vm", "logs"), List.of("vm", "stats"),
                List.of("vm", "ports"), List.of("vm", "cp"), List.of("image", "pull"), List.of("image", "register"),
                List.of("image", "promote"), List.of("image", "list"), List.of("image", "show"),
                List.of("image", "delete"), List.of("image", "default"), List.of("image", "export"),
                List.of("image", "import"), List.of("kernel", "list"),
                List.of("kernel", "show"),
                List.of("kernel", "pull"), List.of("kernel", "import"), List.of("kernel", "delete"),
                List.of("kernel", "default"), List.of("session", "start"), List.of("session", "list"),
                List.of("session", "attach"), List.of("session", "logs"), List.of("session", "kill"),
                List.of("workspace", "export"), List.of("ssh-config", "install"), List.of("ssh-config", "uninstall"),
                List.of("ssh-config", "show"));
        for (List<String> command : commands) {
            String[] args = java.util.stream.Stream.concat(command.stream(), java.util.stream.Stream.of("--help"))
                    .toArray(String[]::new);
            Result help = banger.banger(args);
            assertThat(help.exitCode()).as(String.join(" ", command) + ": " + help.output()).isZero();
            assertThat(help.stdout()).as(String.join(" ", command)).startsWith("Usage: banger " + String.join(" ", command));
        }
        assertThat(banger.banger("vm", "create", "--help").stdout()).contains("--image", "--kernel", "--cpus",
                "--memory", "--disk", "--vmm", "--no-start");
        assertThat(banger.banger("vm", "run", "--help").stdout()).contains("--rm", "--no-workspace", "--name",
                "--vmm");
        assertThat(Files.exists(banger.socket())).as("help never starts the daemon").isFalse();
    }

    @Test
    void theFirstImageStaysTheDefault_untilImageDefaultSetsAnother() throws Exception {
        kernelAndImage();
        Path second = FakeKernel.writeRootfs(banger.home().resolve("busybox.ext4"));
        assertThat(banger.banger("image", "register", "busybox", "--rootfs", second.toString()).exitCode()).isZero();

        assertThat(banger.banger("image", "default").stdout()).isEqualTo("tiny\n");
        assertThat(banger.banger("image", "list").stdout()).startsWith("NAME")
                .as("the DEFAULT column").containsPattern("(?m)^tiny\\s+4\\.0M\\s+\\*\\s+register:")
                .containsPattern("(?m)^busybox\\s+4\\.0M\\s+-\\s+register:");
        Result create = banger.banger("vm", "create", "--no-start", "demo");
        assertThat(create.exitCode()).as(create.output()).isZero();
        assertThat(banger.banger("vm", "show", "demo").stdout()).containsPattern("image:\\s+tiny");

        assertThat(banger.banger("image", "default", "busybox").stdout()).isEqualTo("busybox is the default image\n");
        assertThat(banger.banger("vm", "create", "--no-start", "demo2").exitCode()).isZero();
        assertThat(banger.banger("vm", "show", "demo2").stdout()).as("at once, without a daemon restart")
                .containsPattern("image:\\s+busybox");
        Result missing = banger.banger("image", "default", "nope");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.stderr()).contains("no such image: nope");
    }

    @Test
    void imageExportAndImport_moveAnImageAndItsKernelThroughABundleFile() throws Exception {
        kernelAndImage();
        Path bundle = banger.home().resolve("tiny.bundle");

        Result export = banger.banger("image", "export", "tiny", bundle.toString(), "--kernel");
        assertThat(export.exitCode()).as(export.output()).isZero();
        assertThat(export.stdout()).startsWith(bundle + ": image tiny, kernel fake (");
        assertThat(export.stderr()).contains("exported image 'tiny'");
        try (var dir = Files.list(banger.home())) {
            assertThat(dir.map(p -> p.getFileName().toString())).as("no partial file left")
                    .noneMatch(n -> n.endsWith(".partial"));
        }

        Result copy = banger.banger("image", "import", bundle.toString(), "--name", "copy");
        assertThat(copy.exitCode()).as(copy.output()).isZero();
        assertThat(copy.stdout()).isEqualTo("copy imported (4.0M)\n");
        assertThat(copy.stderr()).contains("kernel 'fake' (" + FakeKernel.VERSION + ") is already here");
        assertThat(copy.stderr()).as("the result is said once, on stdout").doesNotContain("imported");

        assertThat(banger.banger("image", "delete", "tiny", "copy").exitCode()).isZero();
        assertThat(banger.banger("kernel", "delete", "fake").exitCode()).isZero();
        Result back = banger.banger("image", "import", bundle.toString());
        assertThat(back.exitCode()).as(back.output()).isZero();
        assertThat(banger.banger("image", "show", "tiny").stdout()).containsPattern("source:\\s+register:");
        assertThat(banger.banger("kernel", "show", "fake").stdout()).contains(FakeKernel.VERSION);
        assertThat(banger.banger("vm", "create", "--no-start", "demo").exitCode()).as("a VM of them").isZero();

        Path cut = banger.home().resolve("cut.bundle");
        Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(bundle), (int) Files.size(bundle) / 2));
        Result refused = banger.banger("image", "import", cut.toString(), "--name", "cut");
        assertThat(refused.exitCode()).as("a bad bundle is input the command cannot take").isEqualTo(2);
        assertThat(refused.stderr().lines().filter(l -> l.startsWith("banger: "))).as("one error line")
                .singleElement().asString().startsWith("banger: cannot import " + cut + ": the bundle is truncated");
        assertThat(banger.banger("image", "list", "--json").stdout()).doesNotContain("\"cut\"");
    }

    @Test
    void daemonStatusAndDoctorSayWhenTheConfigChangedSinceTheDaemonStarted() throws Exception {
        assertThat(banger.banger("daemon", "start").exitCode()).isZero();
        Map<?, ?> before = (Map<?, ?>) Json.parseTree(banger.banger("daemon", "status", "--json").stdout());
        assertThat(before.get("configChanged")).isEqualTo(false);

        Path config = banger.home().resolve("config/config.json");
        Files.createDirectories(config.getParent());
        Files.writeString(config, "{\"defaultCpus\": 3}");

        assertThat(banger.banger("daemon", "status").stdout())
                .contains("changed since bangerd started; its settings apply after a restart: banger daemon stop");
        assertThat(banger.banger("doctor").stdout()).containsPattern("(?m)^WARN\\s+daemon .*changed since it started");
        banger.banger("daemon", "stop");
        assertThat(banger.banger("daemon", "start").exitCode()).isZero();
        assertThat(banger.banger("daemon", "status").stdout()).doesNotContain("changed since");
    }

    @Test
    void imageAndKernelListsWorkWhenEmpty() {
        assertThat(banger.banger("image", "list", "--json").stdout()).contains("\"images\": []");
        assertThat(banger.banger("kernel", "list", "--json").stdout()).contains("\"kernels\": []");
        assertThat(banger.banger("image", "list").stdout()).startsWith("NAME");
    }

    @Test
    void daemonStopStopsItAndStatusSaysSo() {
        assertThat(banger.banger("daemon", "start").stdout()).startsWith("bangerd started (pid ");
        assertThat(banger.banger("daemon", "start").stdout()).startsWith("bangerd is already running");
        long pid = banger.daemonPid().orElseThrow();

        Result stop = banger.banger("daemon", "stop");

        assertThat(stop.stdout()).isEqualTo("bangerd stopped (pid " + pid + ")\n");
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(banger.socket()).doesNotExist();
        Result status = banger.banger("daemon", "status");
        assertThat(status.exitCode()).isEqualTo(1);
        assertThat(status.stdout()).startsWith("bangerd is not running");
        assertThat(banger.banger("daemon", "stop").stdout()).isEqualTo("bangerd is not running\n");
    }

    @Test
    void completionPrintsABashScript() {
        Result completion = banger.banger("completion");

        assertThat(completion.exitCode()).isZero();
        assertThat(completion.stdout()).contains("complete -F").contains("vm").contains("kernel");
    }

    @Test
    void doctorRunsAndReportsPerCheck() {
        Result doctor = banger.banger("doctor", "--json");

        assertThat(doctor.exitCode()).as(doctor.output()).isZero();
        Map<?, ?> report = (Map<?, ?>) Json.parseTree(doctor.stdout());
        assertThat(report.get("healthy")).isEqualTo(true);
        assertThat((List<?>) report.get("checks")).hasSizeGreaterThan(10);
        assertThat(banger.banger("doctor").stdout()).containsPattern("(?m)^(PASS|WARN)\\s+kvm");
    }

    private static String perms(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
