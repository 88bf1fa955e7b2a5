package dev.banger.host.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.host.Executables;
import dev.banger.host.ProcessCommandRunner;
import dev.banger.testkit.RecordingCommandRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostCapabilitiesTest {

    @TempDir
    Path tmp;

    private final RecordingCommandRunner runner = new RecordingCommandRunner();

    @Test
    void deviceMapperListedInProcMiscIsPresentWithoutAskingDmsetup() throws IOException {
        Path misc = Files.writeString(tmp.resolve("misc"), "183 hw_random\n236 device-mapper\n 60 mei\n");

        HostCapabilities host = probe(tmp.resolve("no-control"), misc, 0, "dmsetup");

        assertThat(host.deviceMapper()).isTrue();
        assertThat(host.deviceMapperEvidence()).isEqualTo(misc.toString());
        assertThat(runner.commands()).isEmpty();
    }

    @Test
    void aControlNodeWithoutTheDriverListedCountsOnlyIfTheDriverAnswers() throws IOException {
        Path control = Files.createFile(tmp.resolve("control"));
        Path misc = Files.writeString(tmp.resolve("misc"), "183 hw_random\n");
        runner.when("dmsetup", "version").thenReturn("Library version:   1.02.185\nDriver version:    4.48.0\n");

        HostCapabilities host = probe(control, misc, 0, "dmsetup");

        assertThat(host.deviceMapper()).as("kmod's static node: the first open loads dm_mod").isTrue();
        assertThat(runner.commandLines()).containsExactly("dmsetup version");
    }

    @Test
    void aControlNodeLeftByDmsetupOnAKernelWithoutDeviceMapperIsNotDeviceMapper() throws IOException {
        Path control = Files.createFile(tmp.resolve("control"));
        Path misc = Files.writeString(tmp.resolve("misc"), "183 hw_random\n");
        runner.when("dmsetup", "version").thenFail(1, "/dev/mapper/control: open failed: No such device\n"
                + "Failure to communicate with kernel device-mapper driver.\nCommand failed.\n");

        HostCapabilities host = probe(control, misc, 0, "dmsetup");

        assertThat(host.deviceMapper()).isFalse();
        assertThat(host.deviceMapperEvidence()).isEqualTo(control + " exists but the kernel's device-mapper driver "
                + "does not answer (not in " + misc + ", dmsetup version fails)");
    }

    @Test
    void withNeitherDeviceMapperIsAbsentAndNoDmsetupRunCreatesTheNode() throws IOException {
        Path misc = Files.writeString(tmp.resolve("misc"), "183 hw_random\n 60 not-device-mapper-ish\n");

        HostCapabilities host = probe(tmp.resolve("control"), misc, 1000, "dmsetup");

        assertThat(host.deviceMapper()).isFalse();
        assertThat(host.deviceMapperEvidence()).isEqualTo("no " + tmp.resolve("control") + ", not in " + misc);
        assertThat(runner.commands()).isEmpty();
    }

    @Test
    void rootIsTheEffectiveUidOfProcSelfStatus() throws IOException {
        assertThat(probe(tmp.resolve("c"), tmp.resolve("m"), 0).root()).isTrue();
        assertThat(probe(tmp.resolve("c"), tmp.resolve("m"), 1000).root()).isFalse();
        Path setuid = Files.writeString(tmp.resolve("status-setuid"), "Name:\tx\nUid:\t1000\t0\t0\t0\n");
        assertThat(HostCapabilities.probe(tmp.resolve("c"), tmp.resolve("m"), setuid, path(), runner).root())
                .isTrue();
    }

    @Test
    void programsAreFoundOnTheSearchPath() throws IOException {
        HostCapabilities host = probe(tmp.resolve("c"), tmp.resolve("m"), 0, "losetup", "cp");

        assertThat(host.programs()).containsExactlyInAnyOrder("losetup", "cp");
        assertThat(host.has("dmsetup")).isFalse();
    }

    @Test
    void thisHostIsProbedWithoutError() {
        HostCapabilities host = HostCapabilities.probe(new ProcessCommandRunner());

        System.out.println("this host: " + host);
        assertThat(host.has("cp")).isTrue();
    }

    private HostCapabilities probe(Path control, Path misc, int euid, String... programs) throws IOException {
        Path status = Files.writeString(tmp.resolve("status-" + euid), "Name:\tjava\nUid:\t" + euid + "\t" + euid
                + "\t" + euid + "\t" + euid + "\nGid:\t0\t0\t0\t0\n");
        return HostCapabilities.probe(control, misc, status, path(programs), runner);
    }

    private Executables path(String... programs) throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("bin-" + String.join("-", programs)));
        for (String program : programs) {
            Path file = bin.resolve(program);
            if (!Files.exists(file)) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwxr-xr-x")));
            }
        }
        return new Executables(bin.toString());
    }
}
