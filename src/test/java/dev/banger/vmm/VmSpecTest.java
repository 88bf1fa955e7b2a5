package dev.banger.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmSpecTest {

    @TempDir
    Path dir;

    private VmSpec spec(int cpus, int mem, Path kernel, Path controlSocket, Optional<NetworkSpec> net)
            throws IOException {
        Path disk = Files.write(dir.resolve("root.img"), new byte[512]);
        return new VmSpec("id1", "box", cpus, mem, kernel, null, "console=ttyS0",
                List.of(new DiskSpec(disk, DiskSpec.Format.RAW, false, DiskSpec.Role.ROOT)),
                dir.resolve("agent.sock"), controlSocket, dir.resolve("console.log"), dir, 3, net);
    }

    @Test
    void aCompleteSpecIsValid() throws IOException {
        Path kernel = Files.write(dir.resolve("vmlinuz"), new byte[16]);
        VmSpec spec = spec(1, 64, kernel, dir.resolve("qmp.sock"),
                Optional.of(new NetworkSpec("tap-box0", "02:00:0a:00:00:02")));
        assertThat(spec.validate()).isSameAs(spec);
    }

    @Test
    void everyProblemIsListed() throws IOException {
        VmSpec spec = spec(0, 32, dir.resolve("missing-vmlinuz"), dir.resolve("qmp.sock"),
                Optional.of(new NetworkSpec("a-very-long-tap-name", "zz")));

        assertThatThrownBy(spec::validate)
                .isInstanceOf(InvalidVmSpecException.class)
                .hasMessageStartingWith("invalid VM spec for box: ")
                .satisfies(e -> assertThat(((InvalidVmSpecException) e).problems()).containsExactly(
                        "cpus must be between 1 and 64, got 0",
                        "memory must be at least 64 MiB, got 32 MiB",
                        "kernel file " + dir.resolve("missing-vmlinuz") + " does not exist",
                        "tap name must be 1-15 characters of [A-Za-z0-9_.-], got \"a-very-long-tap-name\"",
                        "MAC address must look like 02:00:00:00:00:01, got \"zz\""));
    }

    @Test
    void aSocketPathOverTheUnixLimitIsRejectedWithItsLength() throws IOException {
        Path kernel = Files.write(dir.resolve("vmlinuz"), new byte[16]);
        Path deep = Files.createDirectories(dir.resolve("d".repeat(100)));
        Path sock = deep.resolve("qmp.sock");
        int len = sock.toString().length();

        assertThatThrownBy(() -> spec(1, 128, kernel, sock, Optional.empty()).validate())
                .isInstanceOf(InvalidVmSpecException.class)
                .hasMessageContaining("control socket path is " + len + " bytes, over the 107-byte Unix socket limit");
    }

    @Test
    void socketPathCheckAcceptsExactly107Bytes() {
        String base = "/tmp/";
        Path ok = Path.of(base + "s".repeat(107 - base.length()));
        Path tooLong = Path.of(base + "s".repeat(108 - base.length()));
        assertThat(UnixSocketPaths.problem("agent socket", ok)).isNull();
        assertThatThrownBy(() -> UnixSocketPaths.check("agent socket", tooLong))
                .isInstanceOf(VmmException.class).hasMessageContaining("108 bytes");
    }
}
