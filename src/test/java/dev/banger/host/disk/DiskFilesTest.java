package dev.banger.host.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.host.ProcessCommandRunner;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link DiskFiles#copy} with the real cp: how a clone takes its own copy of a template's read-only disk. */
class DiskFilesTest {

    @TempDir
    Path tmp;

    private final ProcessCommandRunner runner = new ProcessCommandRunner();

    @Test
    void aCopyOfAReadOnlyDiskIsSparsePrivateAndWritableAndReplacesTheTarget() throws IOException {
        Path source = DiskImages.sparseImage(tmp.resolve("template/root.img"), 64L << 20);
        Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("r--r-----"));
        String before = DiskImages.sha256(source);
        Path target = Files.writeString(tmp.resolve("root.img"), "the old disk");

        DiskFiles.copy(runner, source, target, "copy the template's root disk to", Duration.ofMinutes(1));

        assertThat(DiskImages.sha256(target)).isEqualTo(before);
        assertThat(Files.getPosixFilePermissions(target)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(DmSnapshotStrategyTest.allocatedBytes(target)).as("holes stay holes").isLessThan(1 << 20);
        try (RandomAccessFile f = new RandomAccessFile(target.toFile(), "rw")) {
            f.write(new byte[] {(byte) 0xab});
        }
        assertThat(DiskImages.sha256(source)).as("the source is never written").isEqualTo(before);
        assertThat(Files.getPosixFilePermissions(source)).isEqualTo(PosixFilePermissions.fromString("r--r-----"));
        assertThat(tmp.resolve(".root.img.tmp")).doesNotExist();
    }

    @Test
    void aFailedCopyLeavesTheTargetAsItWasAndNoTemporaryFile() throws IOException {
        Path target = Files.writeString(tmp.resolve("root.img"), "the old disk");

        assertThatThrownBy(() -> DiskFiles.copy(runner, tmp.resolve("gone.img"), target, "copy the template's "
                + "root disk to", Duration.ofMinutes(1)))
                .isInstanceOf(RootDiskException.class)
                .hasMessageContaining("cannot copy the template's root disk to " + target)
                .hasMessageContaining("gone.img");
        assertThat(Files.readString(target)).isEqualTo("the old disk");
        assertThat(tmp.resolve(".root.img.tmp")).doesNotExist();
    }
}
