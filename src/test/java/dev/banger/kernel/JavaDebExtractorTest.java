package dev.banger.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.testkit.TestAssets;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JavaDebExtractorTest {

    @TempDir
    Path tmp;

    private final JavaDebExtractor extractor = new JavaDebExtractor(TestAssets.runner(), name -> true);

    interface TarBody {
        void write(TarArchiveOutputStream tar) throws IOException;
    }

    private Path deb(TarBody body) throws IOException {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(data))) {
            body.write(tar);
        }
        ByteArrayOutputStream control = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(control))) {
            file(tar, "./control", "Package: linux-image-test\nVersion: 1.0-1\nDescription: x\n more\n");
        }
        Path deb = tmp.resolve("test.deb");
        try (OutputStream out = Files.newOutputStream(deb); ArArchiveOutputStream ar = new ArArchiveOutputStream(out)) {
            member(ar, "debian-binary", "2.0\n".getBytes(StandardCharsets.US_ASCII));
            member(ar, "control.tar.gz", control.toByteArray());
            member(ar, "data.tar.gz", data.toByteArray());
        }
        return deb;
    }

    private static void member(ArArchiveOutputStream ar, String name, byte[] bytes) throws IOException {
        ar.putArchiveEntry(new ArArchiveEntry(name, bytes.length));
        ar.write(bytes);
        ar.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream tar, String name, String content) throws IOException {
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name, true); // keep a leading "/" so hostile names can be tested
        e.setSize(b.length);
        tar.putArchiveEntry(e);
        tar.write(b);
        tar.closeArchiveEntry();
    }

    private static void symlink(TarArchiveOutputStream tar, String name, String target) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
        e.setLinkName(target);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

    @Test
    void extractsFilesAndReadsTheControlFields() throws IOException {
        Path deb = deb(tar -> file(tar, "./boot/vmlinuz-1.0", "kernel"));
        Path out = Files.createDirectory(tmp.resolve("out"));

        extractor.extract(deb, out);

        assertThat(out.resolve("boot/vmlinuz-1.0")).hasContent("kernel");
        assertThat(extractor.control(deb)).anySatisfy(f -> assertThat(f).containsExactly("Package",
                "linux-image-test"));
    }

    @Test
    void rejectsDotDotEntries() throws IOException {
        Path deb = deb(tar -> file(tar, "./boot/../../escaped", "x"));
        Path out = Files.createDirectory(tmp.resolve("out"));

        assertThatThrownBy(() -> extractor.extract(deb, out))
                .isInstanceOf(KernelException.class).hasMessageContaining("refusing path with '..'");
        assertThat(tmp.resolve("escaped")).doesNotExist();
    }

    @Test
    void rejectsAbsoluteEntries() throws IOException {
        Path target = tmp.resolve("abs-escaped");
        Path deb = deb(tar -> file(tar, target.toString(), "x"));
        Path out = Files.createDirectory(tmp.resolve("out"));

        assertThatThrownBy(() -> extractor.extract(deb, out))
                .isInstanceOf(KernelException.class).hasMessageContaining("refusing absolute path");
        assertThat(target).doesNotExist();
    }

    @Test
    void rejectsWritingThroughASymlinkThatLeavesTheDestination() throws IOException {
        Path outside = Files.createDirectory(tmp.resolve("outside"));
        Path deb = deb(tar -> {
            symlink(tar, "./lib", outside.toString());
            file(tar, "./lib/evil", "x");
        });
        Path out = Files.createDirectory(tmp.resolve("out"));

        assertThatThrownBy(() -> extractor.extract(deb, out))
                .isInstanceOf(KernelException.class).hasMessageContaining("points outside");
        assertThat(outside.resolve("evil")).doesNotExist();
    }

    @Test
    void aFileThatIsNotAnArArchiveIsRejected() throws IOException {
        Path notDeb = Files.writeString(tmp.resolve("x.deb"), "hello");
        assertThatThrownBy(() -> extractor.extract(notDeb, Files.createDirectory(tmp.resolve("out"))))
                .isInstanceOf(KernelException.class).hasMessageContaining(notDeb.toString());
    }
}
