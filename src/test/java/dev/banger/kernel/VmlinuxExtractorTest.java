package dev.banger.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.model.KernelFormat;
import dev.banger.testkit.FakeKernel;
import dev.banger.testkit.TestAssets;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class VmlinuxExtractorTest {

    @TempDir
    Path tmp;

    @Test
    void debiansCloudKernelUnpacksToAnElfOfTheSameRelease() throws IOException {
        Path bzImage = TestAssets.debianCloudKernel().kernel();
        Path out = tmp.resolve("vmlinux");

        VmlinuxExtractor.Payload payload = new VmlinuxExtractor().extract(bzImage, out);

        KernelImage elf = new KernelImageInspector().inspect(out);
        KernelImage bz = new KernelImageInspector().inspect(bzImage);
        assertThat(elf.format()).isEqualTo(KernelFormat.ELF);
        assertThat(elf.version()).as("\"Linux version \" banner of the ELF vs the bzImage header (payload %s)",
                payload.compression()).isPresent().isEqualTo(bz.version());
        assertThat(Files.size(out)).as("uncompressed, so larger than the bzImage").isGreaterThan(Files.size(bzImage));
    }

    @ParameterizedTest
    @EnumSource(FakeKernel.Compression.class)
    void eachSupportedCompressionGivesBackTheElfByteForByte(FakeKernel.Compression compression) throws IOException {
        Path bzImage = FakeKernel.write(tmp.resolve("vmlinuz"), FakeKernel.BUILT_IN_VIRTIO, compression);

        VmlinuxExtractor.Payload payload = new VmlinuxExtractor().extract(bzImage, tmp.resolve("vmlinux"));

        assertThat(payload.compression().name()).isEqualTo(compression.name());
        assertThat(Files.readAllBytes(tmp.resolve("vmlinux"))).isEqualTo(FakeKernel.vmlinux(FakeKernel.BUILT_IN_VIRTIO));
    }

    @Test
    void aPayloadWhoseSizeDoesNotMatchIsCorruptAndLeavesNoFile() throws IOException {
        Path bzImage = FakeKernel.write(tmp.resolve("vmlinuz"), null, FakeKernel.Compression.GZIP);
        long sizeAt = (15 + 1) * 512 + 0x40 + intAt(bzImage, 0x24C) - 4;
        try (RandomAccessFile f = new RandomAccessFile(bzImage.toFile(), "rw")) {
            f.seek(sizeAt);
            f.write(new byte[] {1, 0, 0, 0});
        }

        assertThatThrownBy(() -> new VmlinuxExtractor().extract(bzImage, tmp.resolve("vmlinux")))
                .isInstanceOf(KernelException.class)
                .hasMessageContaining("unpacked to")
                .hasMessageContaining("the image says 1");
        assertThat(tmp.resolve("vmlinux")).doesNotExist();
    }

    @Test
    void aBzip2PayloadIsUnsupportedNotCorrupt() throws IOException {
        Path bzImage = FakeKernel.write(tmp.resolve("vmlinuz"), null, FakeKernel.Compression.GZIP);
        try (RandomAccessFile f = new RandomAccessFile(bzImage.toFile(), "rw")) {
            f.seek((15 + 1) * 512 + 0x40);
            f.write(new byte[] {'B', 'Z', 'h', '9'});
        }

        assertThatThrownBy(() -> new VmlinuxExtractor().extract(bzImage, tmp.resolve("vmlinux")))
                .isInstanceOf(VmlinuxExtractor.UnsupportedPayloadException.class)
                .hasMessageContaining("bzip2-compressed");
    }

    @Test
    void anLz4BlockWithAnOverlappingMatchRepeatsItsPattern() throws IOException {
        // token 0x23: 2 literals "ab", match of 3+4 bytes at offset 2; then a last literal-only sequence "c".
        byte[] block = {0x23, 'a', 'b', 2, 0, 0x10, 'c'};
        byte[] out = new byte[16];

        int n = Lz4LegacyInputStream.decodeBlock(block, block.length, out);

        assertThat(new String(out, 0, n, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("ab" + "abababa" + "c");
    }

    @Test
    void anLz4MatchBeforeTheStartOfTheBlockIsRefused() {
        byte[] block = {0x10, 'a', 5, 0};

        assertThatThrownBy(() -> Lz4LegacyInputStream.decodeBlock(block, block.length, new byte[16]))
                .isInstanceOf(IOException.class).hasMessageContaining("points before the block");
    }

    @Test
    void aPayloadBeyondTheEndOfTheFileIsRefused() throws IOException {
        Path bzImage = FakeKernel.write(tmp.resolve("vmlinuz"), null, FakeKernel.Compression.GZIP);
        try (RandomAccessFile f = new RandomAccessFile(bzImage.toFile(), "rw")) {
            f.seek(0x24C);
            f.write(new byte[] {0, 0, 0, 0x10});
        }

        assertThatThrownBy(() -> new VmlinuxExtractor().payload(bzImage))
                .isInstanceOf(KernelException.class)
                .hasMessageContaining("is not a complete bzImage");
    }

    private static int intAt(Path file, int offset) throws IOException {
        byte[] b = Files.readAllBytes(file);
        return (b[offset] & 0xff) | (b[offset + 1] & 0xff) << 8 | (b[offset + 2] & 0xff) << 16
                | (b[offset + 3] & 0xff) << 24;
    }
}
