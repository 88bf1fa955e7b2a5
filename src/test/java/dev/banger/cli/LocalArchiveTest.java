package dev.banger.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host side of vm cp: what it packs, and that unpacking an archive from a guest cannot escape. */
class LocalArchiveTest {

    @TempDir
    Path dir;

    @Test
    void rootNamesFollowCpConventions() {
        assertThat(LocalArchive.rootName("/home/u/proj")).isEqualTo("proj");
        assertThat(LocalArchive.rootName("proj/")).isEqualTo("proj");
        assertThat(LocalArchive.rootName("proj/.")).isEqualTo(".");
        assertThat(LocalArchive.rootName("/")).isEqualTo(".");
        assertThat(LocalArchive.rootName("file.txt")).isEqualTo("file.txt");
    }

    @Test
    void packThenUnpackKeepsModesTimesAndSymlinks() throws Exception {
        Path src = dir.resolve("src");
        Files.createDirectories(src.resolve("sub"));
        Files.writeString(src.resolve("run.sh"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(src.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-x---"));
        Files.setLastModifiedTime(src.resolve("run.sh"), FileTime.from(Instant.parse("2002-03-04T05:06:07Z")));
        Files.createSymbolicLink(src.resolve("link"), Path.of("sub/missing"));
        Files.setPosixFilePermissions(src, PosixFilePermissions.fromString("rwx------"));

        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        List<String> warnings = new ArrayList<>();
        LocalArchive.pack(src, "src", tar, false, warnings::add);
        LocalArchive.Stats stats = LocalArchive.unpack(new ByteArrayInputStream(tar.toByteArray()),
                dir.resolve("copy"), false);

        assertThat(warnings).isEmpty();
        assertThat(stats.files()).isEqualTo(1);
        assertThat(stats.dirs()).isEqualTo(2);
        assertThat(stats.symlinks()).isEqualTo(1);
        Path copy = dir.resolve("copy");
        assertThat(Files.readString(copy.resolve("run.sh"))).isEqualTo("#!/bin/sh\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(copy.resolve("run.sh"))))
                .isEqualTo("rwxr-x---");
        assertThat(Files.getLastModifiedTime(copy.resolve("run.sh")).toInstant())
                .isEqualTo(Instant.parse("2002-03-04T05:06:07Z"));
        assertThat(Files.readSymbolicLink(copy.resolve("link"))).isEqualTo(Path.of("sub/missing"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(copy))).isEqualTo("rwx------");
    }

    @Test
    void withOwnersSetIdBitsOwnersAndFifosComeBackAsTheyWere() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Path suid = Files.writeString(src.resolve("suid"), "x");
        Files.setAttribute(suid, "unix:uid", 1234);
        Files.setAttribute(suid, "unix:gid", 2345);
        Files.setAttribute(suid, "unix:mode", 04755); // after the owner: chown clears set-id bits
        Path sticky = Files.createDirectory(src.resolve("sticky"));
        Files.setAttribute(sticky, "unix:mode", 01777);
        Process mkfifo = new ProcessBuilder("mkfifo", "-m", "640", src.resolve("fifo").toString()).start();
        assertThat(mkfifo.waitFor()).isZero();
        boolean root = LocalArchive.runningAsRoot();

        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        List<String> warnings = new ArrayList<>();
        LocalArchive.pack(src, "src", tar, true, warnings::add);
        LocalArchive.Stats kept = LocalArchive.unpack(new ByteArrayInputStream(tar.toByteArray()),
                dir.resolve("kept"), root);
        LocalArchive.Stats mapped = LocalArchive.unpack(new ByteArrayInputStream(tar.toByteArray()),
                dir.resolve("mapped"), false);

        assertThat(warnings).isEmpty();
        assertThat(kept.others()).isEqualTo(1);
        assertThat(Files.getAttribute(dir.resolve("kept/fifo"), "unix:mode", LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(0010640);
        assertThat(Files.getAttribute(dir.resolve("kept/sticky"), "unix:mode")).isEqualTo(0041777);
        if (root) {
            assertThat(Files.getAttribute(dir.resolve("kept/suid"), "unix:mode")).isEqualTo(0104755);
            assertThat(Files.getAttribute(dir.resolve("kept/suid"), "unix:uid")).isEqualTo(1234);
            assertThat(Files.getAttribute(dir.resolve("kept/suid"), "unix:gid")).isEqualTo(2345);
        } else {
            System.out.println("not root: the owners half of this test is skipped (it needs chown)");
        }
        assertThat(Files.getAttribute(dir.resolve("mapped/suid"), "unix:mode")).as("set-id dropped, as cp does")
                .isEqualTo(0100755);
        assertThat(Files.getAttribute(dir.resolve("mapped/suid"), "unix:uid"))
                .isEqualTo(Files.getAttribute(dir, "unix:uid"));
    }

    @Test
    void intoAnExistingDirectoryTheSourceLandsInside() throws Exception {
        Files.createDirectory(dir.resolve("into"));
        byte[] archive = tar(dir("proj/"), file("proj/a", "A"));

        LocalArchive.unpack(new ByteArrayInputStream(archive), dir.resolve("into"), false);

        assertThat(Files.readString(dir.resolve("into/proj/a"))).isEqualTo("A");
    }

    @Test
    void hostileArchivesFromAGuestAreRefused() throws Exception {
        Path dst = Files.createDirectory(dir.resolve("dst"));
        Path outside = Files.createDirectory(dir.resolve("outside"));

        assertUnsafe(dst, file(outside.resolve("abs").toString(), "x"));
        assertUnsafe(dst, file("a/../../outside/dotdot", "x"));
        assertUnsafe(dst, symlink("esc", outside.toString()), file("esc/through", "x"));
        assertUnsafe(dst, hardlink("h", "../outside/x"));
        assertUnsafe(dir.resolve("fresh"), file("one", "1"), file("two", "2"));

        try (Stream<Path> s = Files.list(outside)) {
            assertThat(s).as("nothing escaped").isEmpty();
        }
    }

    @Test
    void anExistingSymlinkIsReplacedNotWrittenThrough() throws Exception {
        Path dst = Files.createDirectory(dir.resolve("dst"));
        Path victim = Files.writeString(dir.resolve("victim"), "untouched");
        Files.createSymbolicLink(dst.resolve("f"), victim);

        LocalArchive.unpack(new ByteArrayInputStream(tar(file("f", "new"))), dst, false);

        assertThat(Files.isSymbolicLink(dst.resolve("f"))).isFalse();
        assertThat(Files.readString(victim)).isEqualTo("untouched");
        assertThat(Files.readString(dst.resolve("f"), StandardCharsets.UTF_8)).isEqualTo("new");
        assertThat(Files.exists(dst.resolve("f"), LinkOption.NOFOLLOW_LINKS)).isTrue();
    }

    @Test
    void anExistingFileIsReplacedAndADirectoryIsNot() throws Exception {
        Path dst = Files.createDirectory(dir.resolve("dst"));
        Files.writeString(dst.resolve("old"), "a longer old content");
        Files.createDirectories(dst.resolve("d/inside"));

        LocalArchive.unpack(new ByteArrayInputStream(tar(file("old", "new"))), dst, false);

        assertThat(Files.readString(dst.resolve("old"))).as("the archive's three bytes (tar() fills with x)")
                .isEqualTo("xxx");
        assertThatThrownBy(() -> LocalArchive.unpack(new ByteArrayInputStream(tar(file("d", "x"))), dst, false))
                .isInstanceOf(IOException.class).hasMessageContaining("cannot replace the directory");
        assertThat(dst.resolve("d/inside")).isDirectory();
    }

    @Test
    void aFileLargerThanTheCopyBufferArrivesWhole() throws Exception {
        byte[] big = new byte[(1 << 20) + 12345];
        new java.util.Random(7).nextBytes(big);
        TarArchiveEntry e = new TarArchiveEntry("big.bin", true);
        e.setSize(big.length);
        e.setMode(0100644);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            out.putArchiveEntry(e);
            out.write(big);
            out.closeArchiveEntry();
        }
        Path dst = Files.createDirectory(dir.resolve("dst"));

        LocalArchive.Stats stats = LocalArchive.unpack(new ByteArrayInputStream(bytes.toByteArray()), dst, false);

        assertThat(Files.readAllBytes(dst.resolve("big.bin"))).isEqualTo(big);
        assertThat(stats.bytes()).isEqualTo(big.length);
    }

    private static void assertUnsafe(Path dst, TarArchiveEntry... entries) throws Exception {
        byte[] archive = tar(entries);
        assertThatThrownBy(() -> LocalArchive.unpack(new ByteArrayInputStream(archive), dst, false))
                .isInstanceOf(LocalArchive.UnsafeEntryException.class);
    }

    private static TarArchiveEntry file(String name, String content) {
        TarArchiveEntry e = new TarArchiveEntry(name, true);
        e.setSize(content.length());
        e.setMode(0100644);
        return e;
    }

    private static TarArchiveEntry dir(String name) {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_DIR, true);
        e.setMode(040755);
        return e;
    }

    private static TarArchiveEntry symlink(String name, String target) {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK, true);
        e.setLinkName(target);
        return e;
    }

    private static TarArchiveEntry hardlink(String name, String target) {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_LINK, true);
        e.setLinkName(target);
        return e;
    }

    /** Files carry their name's last character repeated to their size as content. */
    private static byte[] tar(TarArchiveEntry... entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_GNU);
            for (TarArchiveEntry e : entries) {
                out.putArchiveEntry(e);
                if (e.isFile()) {
                    String name = e.getName();
                    String content = name.equals("f") ? "new" : name.endsWith("proj/a") ? "A"
                            : "x".repeat((int) e.getSize());
                    out.write(content.getBytes(StandardCharsets.UTF_8), 0, (int) e.getSize());
                }
                out.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }
}
