package dev.banger.host.disk;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DirectIoTest {

    /** The kernel's own answer for {@code file}: dd opening it with O_DIRECT. */
    private static boolean ddOpensDirect(Path file) throws Exception {
        Process p = new ProcessBuilder("dd", "if=" + file, "of=/dev/null", "iflag=direct", "count=0")
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0;
    }

    @Test
    void agreesWithTheKernelAndSaysNoForProcAndMissingFiles() throws Exception {
        // The build directory is on the checkout's file system, where a VM's files would be.
        Path dir = Files.createDirectories(Path.of(System.getProperty("banger.build.dir", "target"), "direct-io-test"));
        Path file = Files.write(dir.resolve("disk.img"), new byte[8192]);
        try {
            assertThat(DirectIo.supported(file)).isEqualTo(ddOpensDirect(file));
            assertThat(DirectIo.supported(Path.of("/proc/self/status"))).as("procfs refuses O_DIRECT").isFalse();
            assertThat(DirectIo.supported(dir.resolve("absent"))).isFalse();
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }
}
