package dev.banger.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.host.ProcessCommandRunner;
import dev.banger.testkit.Ext4Inspector;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The seed's modes and owners, and that mkfs.ext4 -d carries them onto the work disk as sshd's StrictModes wants. */
class WorkDiskSeedTest {

    @TempDir
    Path dir;

    @Test
    void layout_hasStrictModesCorrectModes() throws Exception {
        SshKeyPair user = SshKeyPair.generate("banger");
        SshKeyPair host = SshKeyPair.generate("root@demo");

        WorkDiskSeed seed = WorkDiskSeed.create(dir.resolve("seed")).authorize(user.publicKey()).hostKey(host);

        Path root = seed.dir();
        assertThat(mode(root)).isEqualTo("rwxr-xr-x");
        assertThat(mode(root.resolve(".ssh"))).isEqualTo("rwx------");
        assertThat(mode(root.resolve(WorkDiskSeed.AUTHORIZED_KEYS))).isEqualTo("rw-------");
        assertThat(Files.readString(root.resolve(WorkDiskSeed.AUTHORIZED_KEYS))).isEqualTo(user.publicKey() + "\n");
        assertThat(mode(root.resolve(".banger"))).isEqualTo("rwx------");
        assertThat(mode(root.resolve(".banger/ssh"))).isEqualTo("rwx------");
        assertThat(mode(root.resolve(WorkDiskSeed.HOST_KEY))).isEqualTo("rw-------");
        assertThat(Files.readString(root.resolve(WorkDiskSeed.HOST_KEY))).isEqualTo(host.privateKey());
        assertThat(Files.readString(root.resolve(WorkDiskSeed.HOST_KEY + ".pub"))).isEqualTo(host.publicKey() + "\n");
        assertThat(WorkDiskSeed.GUEST_HOST_KEY).isEqualTo("/root/.banger/ssh/ssh_host_ed25519_key");
        if ("root".equals(System.getProperty("user.name"))) {
            try (var walk = Files.walk(root)) {
                walk.forEach(p -> assertThat(uid(p)).as(p + " is root's").isZero());
            }
        }
    }

    @Test
    void seedImageHome_leavesTheMarkerBangerInitLooksFor() throws Exception {
        WorkDiskSeed seed = WorkDiskSeed.create(dir.resolve("seed")).seedImageHome();

        Path marker = seed.dir().resolve(WorkDiskSeed.SEED_IMAGE_HOME);
        assertThat(marker).isEmptyFile();
        assertThat(mode(marker)).isEqualTo("rw-------");
        assertThat(Files.readString(dev.banger.testkit.BangerHome.root().resolve("guest/src/posture.h")))
                .contains("#define SEED_IMAGE_HOME_MARKER \"" + WorkDiskSeed.SEED_IMAGE_HOME + "\"");
    }

    @Test
    void mkfsExt4_keepsTheOwnersAndModesOnTheWorkDisk() throws Exception {
        WorkDiskSeed seed = WorkDiskSeed.create(dir.resolve("seed")).authorize(SshKeyPair.generate("u").publicKey())
                .hostKey(SshKeyPair.generate("h"));
        Path disk = dir.resolve("work.ext4");

        new ProcessCommandRunner().run("mkfs.ext4", "-q", "-F", "-E", "root_owner=0:0", "-d", seed.dir().toString(),
                disk.toString(), "8M");

        Ext4Inspector ext4 = new Ext4Inspector(disk);
        int owner = "root".equals(System.getProperty("user.name")) ? 0 : uid(seed.dir().resolve(".ssh"));
        assertThat(ext4.stat("/").mode()).isEqualTo(0755);
        assertThat(ext4.stat("/").uid()).isZero();
        assertThat(ext4.stat("/.ssh")).satisfies(s -> {
            assertThat(s.mode()).isEqualTo(0700);
            assertThat(s.uid()).isEqualTo(owner);
        });
        assertThat(ext4.stat("/.ssh/authorized_keys").mode()).isEqualTo(0600);
        assertThat(ext4.stat("/.banger/ssh/ssh_host_ed25519_key").mode()).isEqualTo(0600);
        assertThat(ext4.cat("/.ssh/authorized_keys")).startsWith("ssh-ed25519 ");
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    private static int uid(Path p) {
        try {
            return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
