package dev.banger.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.image.HostDebian;
import dev.banger.json.Json;
import dev.banger.testkit.TestAssets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/**
 * The Debian package ({@code mvn package -Pdeb}) installed with apt into a fresh Debian: a debootstrap minbase
 * tree (cached as a tarball, {@link TestAssets#debianMinbaseLayer}) unpacked into a chroot, its Depends fetched
 * from the host's Debian mirror (the downloaded .debs and apt's lists are kept in the test cache between runs).
 * There banger must run without a JDK on the host: {@code banger --help}, {@code banger doctor --json} saying
 * it is the package and finding its banger-init, {@code man -w banger}; the postinst made the CLI's class-data
 * archive.
 */
class PackageInstallIT {

    private Path root;

    @BeforeEach
    void setUp() throws IOException {
        root = Files.createTempDirectory(TestAssets.cacheDir(), ".pkg-chroot-");
    }

    @AfterEach
    void tearDown() {
        // The proc and bind mounts lived in each command's own mount namespace: nothing is mounted here now.
        TestAssets.deleteTree(root);
    }

    @Test
    void aptInstallsThePackageIntoAFreshDebianWhereItRuns() throws Exception {
        Path deb = builtPackage();
        Path base = TestAssets.debianMinbaseLayer(HostDebian.suite(), HostDebian.mirror());
        run(List.of("tar", "--numeric-owner", "-xzf", base.toString(), "-C", root.toString()), 300);
        Files.copy(Path.of("/etc/resolv.conf"), root.resolve("etc/resolv.conf"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(deb, root.resolve("tmp/banger.deb"));
        Path apt = TestAssets.cacheDir().resolve("pkg-apt");
        Files.createDirectories(apt.resolve("archives/partial"));
        Files.createDirectories(apt.resolve("lists/partial"));

        inChroot(apt, 600, "apt-get", "update", "-q");
        // unsafe-io: no fsync per file, for a tree that is thrown away.
        inChroot(apt, 900, "apt-get", "install", "-y", "-q", "--no-install-recommends",
                "-o", "Dpkg::Options::=--force-unsafe-io", "/tmp/banger.deb",
                "man-db");

        assertThat(inChroot(apt, 60, "dpkg-query", "-W", "-f=${Status} ${Depends}", "banger"))
                .startsWith("install ok installed").contains("qemu-system-x86", "openssh-client");
        assertThat(inChroot(apt, 60, "dpkg-deb", "-f", "/tmp/banger.deb", "Recommends")).isEqualTo("debootstrap");
        assertThat(root.resolve("usr/bin/java")).as("no JDK came with it").doesNotExist();

        assertThat(inChroot(apt, 120, "banger", "--help")).contains("Usage: banger", "doctor", "vm");
        Report doctor = Json.read(doctorJson(apt), Report.class);
        assertThat(check(doctor, "install").detail()).startsWith("Debian package, /usr/lib/banger (banger ");
        assertThat(check(doctor, "service").detail()).contains("bangerd.socket");
        assertThat(check(doctor, "banger-init").status()).as("the guest agent where the daemon looks for it")
                .isEqualTo("PASS");
        assertThat(check(doctor, "banger-init").detail()).startsWith("/usr/lib/banger/lib/app/guest/banger-init ");

        assertThat(inChroot(apt, 60, "man", "-w", "banger")).isEqualTo("/usr/share/man/man1/banger.1.gz");
        assertThat(inChroot(apt, 60, "man", "-w", "banger-vm-run")).isEqualTo("/usr/share/man/man1/banger-vm-run.1.gz");
        assertThat(root.resolve("usr/share/bash-completion/completions/banger")).content()
                .contains("complete -F _complete_banger -o default banger");
        assertThat(root.resolve("usr/lib/banger/lib/app/banger-cli.jsa")).as("made by postinst").isNotEmptyFile();
        assertThat(root.resolve("lib/systemd/system/bangerd.socket")).exists();
        assertThat(root.resolve("lib/systemd/system/bangerd.service")).exists();
    }

    /** {@code banger doctor --json}: exit 1 is expected here (no /dev/net/tun in a chroot), JSON either way. */
    private String doctorJson(Path apt) throws Exception {
        Result r = exec(chrootArgv(apt, List.of("banger", "doctor", "--json")), 120);
        assertThat(r.code()).as(r.output()).isIn(0, 1);
        return r.stdout();
    }

    private static Check check(Report report, String name) {
        return report.checks().stream().filter(c -> c.check().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("doctor has no '" + name + "' line: " + report));
    }

    record Report(boolean healthy, List<Check> checks) {
    }

    record Check(String check, String status, String detail, String fix, boolean required) {
    }

    private static Path builtPackage() throws IOException {
        Path build = Path.of(System.getProperty("banger.build.dir", "target"));
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(build, "banger_*_amd64.deb")) {
            s.forEach(found::add);
        }
        if (found.isEmpty()) {
            throw new TestAbortedException("no " + build + "/banger_*_amd64.deb: this test needs the package "
                    + "profile (mvn verify -Pdeb, as .ci/run runs it); skipping");
        }
        return found.get(0);
    }

    /**
     * A command in the chroot, in a mount namespace of its own that holds /proc and apt's cache and lists bound
     * from the test cache; they go when it exits.
     */
    private List<String> chrootArgv(Path apt, List<String> command) {
        List<String> argv = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "--fork",
                "/bin/sh", "-c", "mount -t proc proc \"$0/proc\" && mount --bind \"$1/archives\" "
                        + "\"$0/var/cache/apt/archives\" && mount --bind \"$1/lists\" \"$0/var/lib/apt/lists\" "
                        + "&& shift && exec chroot \"$0\" \"$@\"",
                root.toString(), apt.toString()));
        argv.addAll(command);
        return argv;
    }

    private String inChroot(Path apt, int seconds, String... command) throws Exception {
        Result r = exec(chrootArgv(apt, List.of(command)), seconds);
        assertThat(r.code()).as(String.join(" ", command) + ": " + r.output()).isZero();
        return r.stdout().strip();
    }

    private void run(List<String> argv, int seconds) throws Exception {
        Result r = exec(argv, seconds);
        assertThat(r.code()).as(String.join(" ", argv) + ": " + r.output()).isZero();
    }

    record Result(int code, String stdout, String stderr) {
        String output() {
            return stdout + stderr;
        }
    }

    private static Result exec(List<String> argv, int seconds) throws Exception {
        Path out = Files.createTempFile("pkg-it-out", ".txt");
        Path err = Files.createTempFile("pkg-it-err", ".txt");
        try {
            ProcessBuilder pb = new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            pb.environment().put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
            pb.environment().put("LC_ALL", "C.UTF-8");
            Process p = pb.start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", argv) + " did not finish within " + seconds + " s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
