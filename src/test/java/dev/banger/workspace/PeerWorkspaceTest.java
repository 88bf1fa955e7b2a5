package dev.banger.workspace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.api.BangerException;
import dev.banger.host.ClientFiles;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemon's side of a peer's workspace copy: what it keeps of the archive tar sent, and what it refuses. */
class PeerWorkspaceTest {

    @TempDir
    Path tmp;

    @Test
    void keepsFilesDirectoriesAndSymlinksAsTheyAreWithoutSetIdBits() throws Exception {
        Tar tar = new Tar().file("src/a.txt", "hello", 04755).symlink("secret", "/root/secret").dir("sub", 0700);
        Path into = Files.createDirectory(tmp.resolve("tree"));

        PeerWorkspace.Copied copied = PeerWorkspace.unpack(tar.stream(), into, ClientFiles.Limit.mib(1));

        assertThat(copied.files()).containsExactly("src/a.txt", "secret");
        assertThat(into.resolve("src/a.txt")).hasContent("hello");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(into.resolve("src/a.txt"))))
                .isEqualTo("rwxr-xr-x");
        assertThat(Files.getAttribute(into.resolve("src/a.txt"), "unix:mode")).isEqualTo(0100755);
        assertThat(Files.readSymbolicLink(into.resolve("secret"))).isEqualTo(Path.of("/root/secret"));
        assertThat(Files.isDirectory(into.resolve("sub"), LinkOption.NOFOLLOW_LINKS)).isTrue();
        assertThat(copied.bytes()).isEqualTo(4096 + 4096 + 4096);
    }

    @Test
    void neverWritesThroughASymlinkOrOutsideTheCopy() throws Exception {
        Path outside = Files.createDirectory(tmp.resolve("outside"));
        Path into = Files.createDirectory(tmp.resolve("tree"));

        Tar throughLink = new Tar().symlink("a", outside.toString()).file("a/planted", "x", 0644);
        assertThatThrownBy(() -> PeerWorkspace.unpack(throughLink.stream(), into, ClientFiles.Limit.mib(1)))
                .isInstanceOf(BangerException.class).hasMessageContaining("a/planted is under a symlink");
        assertThat(outside).isEmptyDirectory();

        for (String name : new String[] {"../escaped", "x/../../escaped", ".git/config", "sub/.git/hooks/post"}) {
            Tar hostile = new Tar().file(name, "x", 0644);
            assertThatThrownBy(() -> PeerWorkspace.unpack(hostile.stream(), into, ClientFiles.Limit.mib(1)))
                    .as(name).isInstanceOf(BangerException.class).hasMessageContaining("names " + name);
        }
        assertThat(tmp.resolve("escaped")).doesNotExist();
    }

    @Test
    void refusesANameTwiceAndMoreThanTheLimit() throws Exception {
        Tar twice = new Tar().file("f", "one", 0644).symlink("f", "/etc/passwd");
        assertThatThrownBy(() -> PeerWorkspace.unpack(twice.stream(), Files.createDirectory(tmp.resolve("t1")),
                ClientFiles.Limit.mib(1))).hasMessageContaining("f came twice");

        Tar big = new Tar().file("a", "x".repeat(600_000), 0644).file("b", "y".repeat(600_000), 0644);
        assertThatThrownBy(() -> PeerWorkspace.unpack(big.stream(), Files.createDirectory(tmp.resolve("t2")),
                ClientFiles.Limit.mib(1))).hasMessageContaining("holds more than 1048576 bytes");
    }

    @Test
    void createDirectoriesInsideStopsAtASymlink() throws Exception {
        Path base = Files.createDirectory(tmp.resolve("base"));
        Path outside = Files.createDirectory(tmp.resolve("elsewhere"));
        Files.createSymbolicLink(base.resolve("link"), outside);

        assertThat(PeerWorkspace.createDirectoriesInside(base, base.resolve("a/b"))).isTrue();
        assertThat(base.resolve("a/b")).isDirectory();
        assertThat(PeerWorkspace.createDirectoriesInside(base, base.resolve("link/c"))).isFalse();
        assertThat(outside).isEmptyDirectory();
    }

    /** A tar archive built entry by entry, as GNU tar writes it for the peer. */
    private static final class Tar {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final TarArchiveOutputStream out = new TarArchiveOutputStream(bytes);

        Tar() {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        }

        Tar file(String name, String content, int mode) throws Exception {
            byte[] data = content.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry entry = new TarArchiveEntry(name);
            entry.setMode(0100000 | mode);
            entry.setSize(data.length);
            entry.setUserId(0);
            entry.setGroupId(0);
            out.putArchiveEntry(entry);
            out.write(data);
            out.closeArchiveEntry();
            return this;
        }

        Tar symlink(String name, String target) throws Exception {
            TarArchiveEntry entry = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
            entry.setLinkName(target);
            out.putArchiveEntry(entry);
            out.closeArchiveEntry();
            return this;
        }

        Tar dir(String name, int mode) throws Exception {
            TarArchiveEntry entry = new TarArchiveEntry(name + "/");
            entry.setMode(040000 | mode);
            out.putArchiveEntry(entry);
            out.closeArchiveEntry();
            return this;
        }

        ByteArrayInputStream stream() throws Exception {
            out.finish();
            return new ByteArrayInputStream(bytes.toByteArray());
        }
    }
}
