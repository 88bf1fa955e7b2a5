package dev.banger.kernel;

import dev.banger.model.KernelFormat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelImageInspectorTest {

    @TempDir
    Path tmp;

    private final KernelImageInspector inspector = new KernelImageInspector();

    /** A minimal bzImage: "HdrS" at 0x202, kernel_version pointer at 0x20E pointing (relative to 0x200) at text. */
    static byte[] fakeBzImage(String versionText) {
        byte[] image = new byte[0x1000];
        image[0x202] = 'H';
        image[0x203] = 'd';
        image[0x204] = 'r';
        image[0x205] = 'S';
        int ptr = 0x600;
        image[0x20E] = (byte) (ptr & 0xff);
        image[0x20F] = (byte) (ptr >> 8);
        byte[] text = versionText.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, image, ptr + 0x200, text.length);
        return image;
    }

    @Test
    void bzImageVersionComesFromTheSetupHeader() throws IOException {
        Path k = Files.write(tmp.resolve("bz"), fakeBzImage("6.1.0-56-cloud-amd64 (debian-kernel@lists) #1 SMP"));
        KernelImage image = inspector.inspect(k);
        assertThat(image.format()).isEqualTo(KernelFormat.BZIMAGE);
        assertThat(image.version()).contains("6.1.0-56-cloud-amd64");
    }

    @Test
    void elfVersionComesFromTheLinuxBanner() throws IOException {
        byte[] elf = new byte[3 << 20];
        elf[0] = 0x7f;
        elf[1] = 'E';
        elf[2] = 'L';
        elf[3] = 'F';
        byte[] fmt = "Linux version %s (%s)".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(fmt, 0, elf, 1000, fmt.length);
        // Straddles the 1 MiB read boundary on purpose.
        byte[] banner = "Linux version 6.1.141 (root@ci) #1 SMP".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(banner, 0, elf, (1 << 20) - 20, banner.length);
        Path k = Files.write(tmp.resolve("vmlinux"), elf);

        KernelImage image = inspector.inspect(k);

        assertThat(image.format()).isEqualTo(KernelFormat.ELF);
        assertThat(image.version()).contains("6.1.141");
    }

    @Test
    void elfWithoutBannerHasNoVersion() throws IOException {
        Path k = Files.write(tmp.resolve("vmlinux"), new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
        assertThat(inspector.inspect(k).version()).isEqualTo(Optional.empty());
    }

    @Test
    void garbageIsRejectedWithTheReason() throws IOException {
        Path k = Files.writeString(tmp.resolve("notes.txt"), "this is not a kernel\n".repeat(100));
        assertThatThrownBy(() -> inspector.inspect(k))
                .isInstanceOf(NotAKernelException.class)
                .hasMessageContaining("not a Linux kernel image: " + k)
                .hasMessageContaining("HdrS");
    }

    @Test
    void missingFileIsRejected() {
        assertThatThrownBy(() -> inspector.inspect(tmp.resolve("nope")))
                .isInstanceOf(NotAKernelException.class).hasMessageContaining("does not exist");
    }
}
