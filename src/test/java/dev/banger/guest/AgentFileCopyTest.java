package dev.banger.guest;


import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** file.read and file.write against the real banger-init in agent mode, with commons-compress on this side. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AgentFileCopyTest extends AgentTestBase {

    private static final Instant OLD = Instant.parse("2001-02-03T04:05:06Z");

    @Test
    void aTreeRoundTripsWithModesTimesSymlinksAndLongNames() throws Exception {
        Path src = sampleTree(dir.resolve("src"));
        Files.createDirectory(dir.resolve("dst"));

        FileCopyOut out = client.readFile(src.toString());
        FileCopyIn in = client.writeFile(dir.resolve("dst/copy").toString());
        byte[] archive;
        try (OutputStream to = in.archive()) {
            ByteArrayOutputStream kept = new ByteArrayOutputStream();
            byte[] buf = new byte[65536];
            int n;
            InputStream from = out.archive();
            while ((n = from.read(buf)) > 0) {
                kept.write(buf, 0, n);
                to.write(buf, 0, n);
            }
            archive = kept.toByteArray();
        }
        CopyStats read = out.finish();
        CopyStats written = in.finish();

        assertThat(read).isEqualTo(new CopyStats(4, 5, 2, 0, 3 * 1024 * 1024 + 6 + 10, 0, List.of()));
        assertThat(written).isEqualTo(read);
        assertThat(describe(dir.resolve("dst/copy"))).isEqualTo(describe(src));
        assertThat(entryNames(archive)).as("names start with the source's own name").allMatch(n -> n.startsWith("src"))
                .contains("src/", "src/sub/", "src/sub/deep/", "src/exe", "src/" + "d".repeat(120) + "/" + "f".repeat(130));
    }

    @Test
    void anExistingDirectoryReceivesTheTopLevelEntryAndOtherPathsAreRenamed() throws Exception {
        Path target = Files.createDirectory(dir.resolve("target"));
        byte[] tree = tar(List.of(dirEntry("proj/"), file("proj/a.txt", "A", 0644)));

        write(target.toString(), tree);
        write(dir.resolve("renamed").toString(), tree);
        write(dir.resolve("single.txt").toString(), tar(List.of(file("whatever.txt", "one", 0600))));
        write(dir.resolve("single.txt").toString(), tar(List.of(file("again.txt", "two", 0640))));
        write(target.toString(), tar(List.of(dirEntry("./"), file("./b.txt", "B", 0644))));

        assertThat(Files.readString(target.resolve("proj/a.txt"))).isEqualTo("A");
        assertThat(Files.readString(dir.resolve("renamed/a.txt"))).isEqualTo("A");
        assertThat(Files.readString(dir.resolve("single.txt"))).as("a file replaced").isEqualTo("two");
        assertThat(mode(dir.resolve("single.txt"))).isEqualTo("rw-r-----");
        assertThat(Files.readString(target.resolve("b.txt"))).as("./ means into the directory").isEqualTo("B");
        assertThat(mode(target)).as("the destination itself keeps its mode").isEqualTo("rwxr-xr-x");
    }

    @Test
    void readingADirectorysContentsNamesEntriesFromDot() throws Exception {
        Path src = Files.createDirectories(dir.resolve("c/inner"));
        Files.writeString(src.resolve("x"), "x");

        FileCopyOut out = client.readFile(dir.resolve("c") + "/.");
        byte[] archive = out.archive().readAllBytes();
        out.finish();

        assertThat(entryNames(archive)).containsExactly("./", "./inner/", "./inner/x");
    }

    @Test
    void hostileArchivesAreRefusedAndNothingLandsOutsideTheDestination() throws Exception {
        Path dst = Files.createDirectory(dir.resolve("dst"));
        Path outside = Files.createDirectory(dir.resolve("outside"));

        assertRefused(dst, AgentError.UNSAFE_PATH, file(outside.resolve("abs").toString(), "x", 0644));
        assertRefused(dst, AgentError.UNSAFE_PATH, file("a/../../outside/dotdot", "x", 0644));
        assertRefused(dst, AgentError.UNSAFE_PATH, symlink("esc", outside.toString()), file("esc/through", "x", 0644));
        assertRefused(dst, AgentError.UNSAFE_PATH, symlink("rel", "../outside"), dirEntry("rel/sub/"));
        assertRefused(dst, AgentError.UNSAFE_PATH, hardlink("hard", "../outside/marker"));
        assertRefused(dir.resolve("fresh").toString(), AgentError.UNSAFE_PATH, file("one", "1", 0644), file("two", "2", 0644));

        assertThat(children(outside)).as("nothing escaped").isEmpty();
        assertThat(Files.isSymbolicLink(dst.resolve("esc"))).as("the symlink itself is fine").isTrue();
    }

    @Test
    void anEntryReplacesASymlinkInsteadOfWritingThroughIt() throws Exception {
        Path dst = Files.createDirectory(dir.resolve("dst"));
        Path victim = Files.writeString(dir.resolve("victim"), "untouched");
        Files.createSymbolicLink(dst.resolve("f"), victim);

        write(dst.toString(), tar(List.of(file("f", "new", 0644))));

        assertThat(Files.isSymbolicLink(dst.resolve("f"))).isFalse();
        assertThat(Files.readString(dst.resolve("f"))).isEqualTo("new");
        assertThat(Files.readString(victim)).isEqualTo("untouched");
    }

    @Test
    void malformedArchivesAndMissingPathsFailWithTheirCodes() throws Exception {
        Path dst = Files.createDirectory(dir.resolve("dst"));
        byte[] garbage = new byte[4096];
        new Random(1).nextBytes(garbage);
        assertThat(writeFailure(dst.toString(), garbage).code()).isEqualTo(AgentError.BAD_ARCHIVE);
        byte[] truncated = tar(List.of(file("big", "y".repeat(5000), 0644)));
        assertThat(writeFailure(dst.toString(), java.util.Arrays.copyOf(truncated, 2048)).code())
                .isEqualTo(AgentError.BAD_ARCHIVE);
        AgentException tooLong = writeFailure(dst.toString(), tar(List.of(file("n".repeat(4200), "x", 0644))));
        assertThat(tooLong.code()).isEqualTo(AgentError.BAD_ARCHIVE);
        assertThat(tooLong.getMessage()).contains("longer than the limit of 4095");
        assertThat(writeFailure(dir.resolve("no/such/dir").toString(), tar(List.of(file("x", "x", 0644)))).code())
                .isEqualTo(AgentError.NOT_FOUND);

        FileCopyOut missing = client.readFile(dir.resolve("absent").toString());
        assertThat(missing.archive().readAllBytes()).isEmpty();
        assertThatThrownBy(missing::finish).isInstanceOfSatisfying(AgentException.class,
                e -> assertThat(e.code()).isEqualTo(AgentError.NOT_FOUND));
        assertThatThrownBy(() -> client.readFile("relative/path").finish())
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).isEqualTo(AgentError.BAD_REQUEST));
    }

    /*
     * Small files are created by worker threads while the archive is read on (guest/src/extract_pool.c); what the
     * archive says later about the same path must still win, as it would one entry at a time.
     */
    @Test
    void laterEntriesForAPathWinWhileSmallFilesAreWrittenInParallel() throws Exception {
        Path dst = Files.createDirectory(dir.resolve("dst"));
        List<Entry> entries = new ArrayList<>();
        Map<String, String> expected = new TreeMap<>();
        for (int i = 0; i < 400; i++) {
            String name = "d" + (i % 9) + "/f" + i;
            entries.add(file(name, "content " + i + " ".repeat(i % 700), 0640));
            expected.put(name, "content " + i + " ".repeat(i % 700));
            if (i == 100) {
                entries.add(file("dup", "first", 0644));
                entries.add(file("becomes-dir", "a file first", 0644));
                entries.add(file("becomes-link", "a file first", 0644));
                entries.add(file("grows", "small first", 0644));
                entries.add(file("target", "linked", 0600));
                entries.add(hardlink("hard", "target"));
            }
            if (i == 101) {
                entries.add(file("dup", "second", 0600));
                entries.add(dirEntry("becomes-dir/"));
                entries.add(file("becomes-dir/inside", "in", 0644));
                entries.add(symlink("becomes-link", "target"));
                entries.add(file("grows", "L".repeat(300 * 1024), 0644));
            }
        }

        CopyStats stats = write(dst.toString(), tar(entries));

        assertThat(stats.files()).as("400 files, dup twice, the others once each, the hard link")
                .isEqualTo(400 + 2 + 1 + 1 + 2 + 1 + 1 + 1);
        expected.forEach((name, content) -> assertThat(readString(dst.resolve(name))).as(name).isEqualTo(content));
        assertThat(Files.readString(dst.resolve("dup"))).isEqualTo("second");
        assertThat(mode(dst.resolve("dup"))).isEqualTo("rw-------");
        assertThat(Files.readString(dst.resolve("becomes-dir/inside"))).isEqualTo("in");
        assertThat(Files.isSymbolicLink(dst.resolve("becomes-link"))).isTrue();
        assertThat(Files.size(dst.resolve("grows"))).isEqualTo(300 * 1024);
        assertThat(Files.readString(dst.resolve("hard"))).isEqualTo("linked");
        assertThat(Files.getAttribute(dst.resolve("hard"), "unix:nlink")).isEqualTo(2);
        assertThat(mode(dst.resolve("d3/f3"))).isEqualTo("rw-r-----");
    }

    @Test
    void theFirstFailingEntryInArchiveOrderIsTheOneReported() throws Exception {
        Path dst = Files.createDirectory(dir.resolve("dst"));
        Files.createDirectory(dst.resolve("blocker"));
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            entries.add(file("before/f" + i, "b" + i, 0644));
        }
        entries.add(file("blocker", "a file where a directory is", 0644));
        for (int i = 0; i < 5; i++) {
            entries.add(file("after/f" + i, "a" + i, 0644));
        }
        entries.add(file("../escape", "x", 0644));

        AgentException e = writeFailure(dst.toString(), tar(entries));

        assertThat(e.code()).as(e.getMessage()).isEqualTo(AgentError.IO_ERROR);
        assertThat(e.getMessage()).contains("blocker").contains("cannot replace a directory with a non-directory");
        for (int i = 0; i < 60; i++) {
            assertThat(readString(dst.resolve("before/f" + i))).as("entries before the failure stay").isEqualTo("b" + i);
        }
        assertThat(dst.resolve("blocker")).isDirectory();
        assertThat(dir.resolve("escape")).doesNotExist();
    }

    private static String readString(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "<" + e + ">";
        }
    }

    @Test
    void theAgentServesOtherChannelsWhileABigCopyIsStalled() throws Exception {
        Path big = dir.resolve("big");
        try (OutputStream o = Files.newOutputStream(big)) {
            byte[] block = new byte[1 << 20];
            for (int i = 0; i < 16; i++) {
                o.write(block);
            }
        }
        FileCopyOut stalled = client.readFile(big.toString()); // nobody reads it for now

        assertThat(client.ping().protocol()).isEqualTo(1);
        long n = stalled.archive().transferTo(OutputStream.nullOutputStream());
        assertThat(stalled.finish().bytes()).isEqualTo(16L << 20);
        assertThat(n).isEqualTo((16L << 20) + 512 + 1024);
    }

    // --- fixtures ---

    private static Path sampleTree(Path src) throws IOException {
        Files.createDirectories(src.resolve("sub/deep"));
        Files.createDirectories(src.resolve("empty"));
        Files.writeString(src.resolve("hello.txt"), "hello\n");
        Files.writeString(src.resolve("exe"), "#!/bin/sh\n");
        byte[] random = new byte[3 * 1024 * 1024];
        new Random(7).nextBytes(random);
        Files.write(src.resolve("sub/data.bin"), random);
        Path longDir = Files.createDirectories(src.resolve("d".repeat(120)));
        Files.writeString(longDir.resolve("f".repeat(130)), "");
        Files.createSymbolicLink(src.resolve("link"), Path.of("hello.txt"));
        Files.createSymbolicLink(src.resolve("abs"), Path.of("/etc/hostname"));
        Files.setPosixFilePermissions(src.resolve("hello.txt"), PosixFilePermissions.fromString("rw-r-----"));
        Files.setPosixFilePermissions(src.resolve("exe"), PosixFilePermissions.fromString("rwxr-x--x"));
        Files.setPosixFilePermissions(src.resolve("sub"), PosixFilePermissions.fromString("rwx------"));
        Files.setLastModifiedTime(src.resolve("sub/deep"), FileTime.from(OLD));
        Files.setLastModifiedTime(src.resolve("hello.txt"), FileTime.from(OLD));
        return src;
    }

    /** Every path under root with its type, mode, mtime (s), size, link target and content hash. */
    private static Map<String, String> describe(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.toList()) {
                String rel = root.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    out.put(rel, "link " + Files.readSymbolicLink(p));
                    continue;
                }
                String kind = Files.isDirectory(p) ? "dir" : "file " + Files.size(p) + " "
                        + java.util.Arrays.hashCode(Files.readAllBytes(p));
                long mtime = Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis() / 1000;
                out.put(rel, kind + " " + mode(p) + " " + mtime);
            }
        }
        return out;
    }

    private static String mode(Path p) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
        return PosixFilePermissions.toString(perms);
    }

    private static List<String> children(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    private static List<String> entryNames(byte[] archive) throws IOException {
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(archive))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                names.add(e.getName());
            }
        }
        return names;
    }

    private record Entry(TarArchiveEntry header, byte[] data) {
    }

    private static Entry file(String name, String content, int mode) {
        TarArchiveEntry e = new TarArchiveEntry(name, true);
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        e.setSize(data.length);
        e.setMode(mode);
        return new Entry(e, data);
    }

    private static Entry dirEntry(String name) {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_DIR, true);
        e.setMode(0755);
        return new Entry(e, new byte[0]);
    }

    private static Entry symlink(String name, String target) {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK, true);
        e.setLinkName(target);
        return new Entry(e, new byte[0]);
    }

    private static Entry hardlink(String name, String target) {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_LINK, true);
        e.setLinkName(target);
        return new Entry(e, new byte[0]);
    }

    private static byte[] tar(List<Entry> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_GNU);
            for (Entry e : entries) {
                out.putArchiveEntry(e.header());
                out.write(e.data());
                out.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private CopyStats write(String path, byte[] archive) throws Exception {
        FileCopyIn in = client.writeFile(path);
        try {
            in.archive().write(archive);
        } catch (IOException e) {
            return in.result(); // refused before the end: the verdict says why
        }
        return in.finish();
    }

    private AgentException writeFailure(String path, byte[] archive) throws Exception {
        try {
            write(path, archive);
        } catch (AgentException e) {
            return e;
        }
        throw new AssertionError("expected file.write at " + path + " to fail");
    }

    private void assertRefused(Path dst, AgentError code, Entry... entries) throws Exception {
        assertRefused(dst.toString(), code, entries);
    }

    private void assertRefused(String dst, AgentError code, Entry... entries) throws Exception {
        AgentException e = writeFailure(dst, tar(List.of(entries)));
        assertThat(e.code()).as(e.getMessage()).isEqualTo(code);
    }
}
