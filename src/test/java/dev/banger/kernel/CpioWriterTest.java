package dev.banger.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.host.Command;
import dev.banger.testkit.NewcReader;
import dev.banger.testkit.TestAssets;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpioWriterTest {

    @TempDir
    Path tmp;

    private static byte[] sample(Path source) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (CpioWriter cpio = new CpioWriter(out)) {
            cpio.characterDevice("/dev/console", 0600, 5, 1);
            cpio.file("/etc/banger/modules", 0644, "a\nbc\n".getBytes(StandardCharsets.UTF_8));
            cpio.file("/init", 0755, source);
            cpio.symlink("/bin/sh", "busybox");
            cpio.directory("/tmp", 01777);
            cpio.file("/empty", 0600, new byte[0]);
        }
        return out.toByteArray();
    }

    @Test
    void realCpioToolListsEntriesWithParentsFirst() throws IOException {
        Path src = Files.write(tmp.resolve("init"), "12345".getBytes(StandardCharsets.US_ASCII));
        byte[] archive = sample(src);

        String listing = TestAssets.runner().run(Command.of("cpio", "-it", "--quiet").withStdin(archive))
                .stdoutText();

        assertThat(listing.lines()).containsExactly("dev", "dev/console", "etc", "etc/banger",
                "etc/banger/modules", "init", "bin", "bin/sh", "tmp", "empty");
    }

    @Test
    void realCpioToolExtractsContentModesAndLinks() throws IOException {
        Path src = Files.write(tmp.resolve("init"), "#!/bin/sh\n".getBytes(StandardCharsets.US_ASCII));
        Path out = Files.createDirectory(tmp.resolve("out"));
        TestAssets.runner().run(Command.of("cpio", "-id", "--quiet", "--no-absolute-filenames")
                .withCwd(out).withStdin(sample(src)));

        assertThat(out.resolve("etc/banger/modules")).hasContent("a\nbc\n");
        assertThat(out.resolve("init")).hasContent("#!/bin/sh\n");
        assertThat(Files.isExecutable(out.resolve("init"))).isTrue();
        assertThat(Files.readSymbolicLink(out.resolve("bin/sh"))).isEqualTo(Path.of("busybox"));
        assertThat(out.resolve("empty")).isEmptyFile();
    }

    @Test
    void headersAreAlignedOwnedByRootAndTimestampFree() throws IOException {
        Path src = Files.write(tmp.resolve("init"), new byte[7]);
        byte[] archive = sample(src);

        assertThat(archive.length % 4).as("archive length is padded").isZero();
        List<NewcReader.Entry> entries = NewcReader.read(archive);
        assertThat(entries).allSatisfy(e -> {
            assertThat(e.uid()).isZero();
            assertThat(e.gid()).isZero();
            assertThat(e.mtime()).isZero();
        });
        NewcReader.Entry console = entries.get(1);
        assertThat(console.name()).isEqualTo("dev/console");
        assertThat(console.isCharDevice()).isTrue();
        assertThat(console.rdevMajor()).isEqualTo(5);
        assertThat(console.rdevMinor()).isEqualTo(1);
        assertThat(entries).filteredOn(e -> e.name().equals("tmp")).singleElement()
                .satisfies(e -> assertThat(e.mode() & 07777).isEqualTo(01777));
        String tail = new String(archive, archive.length - 20, 20, StandardCharsets.US_ASCII);
        assertThat(tail).contains("TRAILER!!!");
    }

    @Test
    void sameInputGivesSameBytes() throws IOException {
        Path src = Files.write(tmp.resolve("init"), "x".getBytes(StandardCharsets.US_ASCII));
        assertThat(sample(src)).isEqualTo(sample(src));
    }

    @Test
    void rejectsNamesThatEscapeTheRoot() {
        CpioWriter cpio = new CpioWriter(new ByteArrayOutputStream());
        assertThatThrownBy(() -> cpio.file("/lib/../../etc/passwd", 0644, new byte[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid cpio entry name");
        assertThatThrownBy(() -> cpio.directory("/", 0755)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> cpio.file("TRAILER!!!", 0644, new byte[0]))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
