package dev.banger.image.rootfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.image.layer.StagingTree;
import dev.banger.ssh.SshdDropIn;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RootfsFinalizerTest {

    @TempDir
    Path tmp;

    @Test
    void imageWithoutSshd_getsNoDropIn_butMountPointsAndDefaults() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("root"));

        RootfsFinalizer.finalizePulledRootfs(new StagingTree(root));

        assertThat(root.resolve(SshdDropIn.PATH)).doesNotExist();
        for (String d : new String[] {"proc", "sys", "dev", "run", "tmp", "root"}) {
            assertThat(root.resolve(d)).isDirectory();
        }
        assertThat(Files.getAttribute(root.resolve("root"), "unix:mode")).isEqualTo(040755);
        assertThat(root.resolve("etc/hostname")).hasContent("banger");
        assertThat(Files.readString(root.resolve("etc/hosts"))).contains("127.0.0.1\tlocalhost");
    }

    @Test
    void existingHostsAndIncludeAreKept() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.createDirectories(root.resolve("etc/ssh"));
        Files.createDirectories(root.resolve("usr/sbin"));
        Files.writeString(root.resolve("usr/sbin/sshd"), "");
        Files.writeString(root.resolve("etc/hosts"), "10.0.0.1 mine\n");
        String config = "Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n";
        Files.writeString(root.resolve("etc/ssh/sshd_config"), config);

        RootfsFinalizer.finalizePulledRootfs(new StagingTree(root));

        assertThat(root.resolve("etc/hosts")).hasContent("10.0.0.1 mine");
        assertThat(Files.readString(root.resolve("etc/ssh/sshd_config"))).isEqualTo(config);
        assertThat(Files.readString(root.resolve(SshdDropIn.PATH))).isEqualTo(SshdDropIn.TEXT);
    }

    @Test
    void sshConfigDirectoryThatIsASymlinkOutside_isRefusedAndNothingIsWrittenThere() throws IOException {
        Path outside = Files.createDirectories(tmp.resolve("host-etc-ssh"));
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.createDirectories(root.resolve("etc"));
        Files.createDirectories(root.resolve("usr/sbin"));
        Files.writeString(root.resolve("usr/sbin/sshd"), "");
        Files.createSymbolicLink(root.resolve("etc/ssh"), outside);

        assertThatThrownBy(() -> RootfsFinalizer.finalizePulledRootfs(new StagingTree(root)))
                .isInstanceOf(RootfsException.class).hasMessageContaining("etc/ssh").hasMessageContaining("symlink");

        assertThat(outside).isEmptyDirectory();
        assertThat(Files.isSymbolicLink(root.resolve("etc/ssh"))).isTrue();
        assertThat(Files.exists(root.resolve("etc/ssh"), LinkOption.NOFOLLOW_LINKS)).isTrue();
    }
}
