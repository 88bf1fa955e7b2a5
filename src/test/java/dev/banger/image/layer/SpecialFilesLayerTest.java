package dev.banger.image.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.banger.host.Command;
import dev.banger.host.Executables;
import dev.banger.image.ImageException;
import dev.banger.image.ImagePuller;
import dev.banger.image.PullListener;
import dev.banger.image.PullOptions;
import dev.banger.image.registry.ContentStore;
import dev.banger.image.registry.ImageSources;
import dev.banger.testkit.Ext4Inspector;
import dev.banger.testkit.OciLayoutBuilder;
import dev.banger.testkit.TarLayer;
import dev.banger.testkit.TestAssets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Layers carrying what distribution root trees carry in /dev and /run: FIFOs and device nodes. They are created in
 * staging (never opened: a FIFO would block the daemon forever, a device node can have effects) and land in the
 * ext4 with their type, major/minor, mode, owner and time. Sockets are not here because tar cannot carry them (GNU
 * tar skips them with "socket ignored"; ustar has no type for them).
 */
class SpecialFilesLayerTest {

    private static final long T1 = 1_600_000_000L;
    private static final long T2 = 1_650_000_000L;

    @TempDir
    Path tmp;
    private Path shmScratch;
    private Path tmpfs;

    @AfterEach
    void cleanUp() {
        if (shmScratch != null) {
            TestAssets.deleteTree(shmScratch);
        }
        if (tmpfs != null) {
            TestAssets.runner().run(Command.of("umount", tmpfs.toString()).allowingFailure());
        }
    }

    /** Staged on disk (the work dir) and on tmpfs (/dev/shm, where the daemon stages images that fit). */
    @ParameterizedTest(name = "staged on {0}")
    @ValueSource(strings = {"disk", "tmpfs"})
    void fifosAndDeviceNodes_landInTheImageWithTypeNumbersModeOwnerAndTime(String staging) throws IOException {
        if (staging.equals("tmpfs")) {
            shmScratch = Files.createTempDirectory(Path.of("/dev/shm"), "banger-test-");
        }
        OciLayoutBuilder b = new OciLayoutBuilder(tmp.resolve("oci"));
        OciLayoutBuilder.Blob lower = b.layer(new TarLayer()
                .dir("dev").dir("run").dir("etc")
                .charDevice("dev/null", 1, 3, 0666, 0, 0, T1)
                .charDevice("dev/ptmx", 5, 2, 0666, 0, 0, T1)
                .charDevice("dev/tty", 5, 0, 0666, 0, 5, T1)
                .charDevice("dev/odd", 10, 200, 02640, 0, 5, T2)
                .blockDevice("dev/loop0", 7, 0, 0660, 0, 6, T2)
                .fifo("run/initctl", 0600, 0, 0, T1)
                .fifo("run/user-fifo", 0640, 1000, 1000, T2)
                .fifo("etc/replaced", 0600, 0, 0, T1)
                .file("etc/os-release", "ID=test\n"), TarLayer.Compression.GZIP);
        OciLayoutBuilder.Blob upper = b.layer(new TarLayer()
                .hardlink("run/fifo-link", "run/user-fifo")
                .file("etc/replaced", "a regular file now\n")
                .fifo("dev/.wh.tty"), TarLayer.Compression.ZSTD);
        b.tag("v1", b.image("amd64", List.of(lower, upper), List.of(), null, List.of()));
        Path target = tmp.resolve("image.ext4");
        ImagePuller puller = new ImagePuller(new ContentStore(tmp.resolve("store")), tmp.resolve("work"), shmScratch,
                StagingBudget.unlimited(), FlattenLimits.DEFAULT, TestAssets.runner(), Executables.fromEnvironment(), ImageSources.newHttpClient());

        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> puller.pull("oci-layout:" + b.dir() + ":v1",
                PullOptions.to(target).withHeadroom(8L << 20).withDockerConfig(tmp.resolve("none.json")),
                PullListener.NONE), "a pull that opens a FIFO from a layer blocks forever");

        Ext4Inspector disk = new Ext4Inspector(target);
        assertNode(disk, "/dev/null", "character", "1:3", 0666, 0, 0, T1);
        assertNode(disk, "/dev/ptmx", "character", "5:2", 0666, 0, 0, T1);
        assertNode(disk, "/dev/odd", "character", "10:200", 02640, 0, 5, T2);
        assertNode(disk, "/dev/loop0", "block", "7:0", 0660, 0, 6, T2);
        assertNode(disk, "/run/initctl", "FIFO", null, 0600, 0, 0, T1);
        assertNode(disk, "/run/user-fifo", "FIFO", null, 0640, 1000, 1000, T2);
        assertThat(disk.stat("/run/fifo-link").raw()).as("hardlink to a FIFO").contains("Links: 2");
        assertThat(disk.exists("/dev/tty")).as("whited out by the upper layer").isFalse();
        assertThat(disk.cat("/etc/replaced")).isEqualTo("a regular file now\n");
        assertThat(filesUnder(tmp.resolve("work"))).as("staging removed").isEmpty();
        if (shmScratch != null) {
            assertThat(shmScratch).as("the tmpfs scratch directory goes once its last staging tree is gone")
                    .doesNotExist();
        }
    }

    @Test
    void anEntryTheOsRefuses_failsWithOneLineNamingLayerEntryAndOsError() throws IOException {
        tmpfs = Files.createDirectories(tmp.resolve("small"));
        TestAssets.runner().run(Command.of("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", tmpfs.toString()));
        OciLayoutBuilder b = new OciLayoutBuilder(tmp.resolve("oci"));
        byte[] noise = new byte[4 << 20]; // not zeros: those would be holes, costing no space
        new java.util.Random(7).nextBytes(noise);
        OciLayoutBuilder.Blob layer = b.layer(new TarLayer().dir("var").file("var/big", noise, 0644, 0, 0),
                TarLayer.Compression.GZIP);
        b.tag("v1", b.image("amd64", List.of(layer), List.of(), null, List.of()));
        Path work = tmpfs.resolve("work");
        ImagePuller puller = new ImagePuller(new ContentStore(tmp.resolve("store")), work, TestAssets.runner(),
                Executables.fromEnvironment(), ImageSources.newHttpClient());

        assertThatThrownBy(() -> puller.pull("oci-layout:" + b.dir() + ":v1",
                PullOptions.to(tmp.resolve("image.ext4")).withDockerConfig(tmp.resolve("none.json")),
                PullListener.NONE))
                .isInstanceOf(ImageException.class)
                .hasMessage("layer 1/1 (" + layer.digest() + "): entry 'var/big': No space left on device")
                .hasMessageNotContaining(work.toString());
        assertThat(filesUnder(work)).as("staging removed").isEmpty();
    }

    private static void assertNode(Ext4Inspector disk, String path, String type, String device, int mode, int uid,
                                   int gid, long mtime) {
        Ext4Inspector.Stat s = disk.stat(path);
        assertThat(s).as(path).isNotNull();
        assertThat(List.of(s.type(), String.valueOf(s.device()), s.mode(), s.uid(), s.gid(), s.mtimeSeconds()))
                .as(path + ": type, major:minor, mode, owner, mtime")
                .containsExactly(type, String.valueOf(device), mode, uid, gid, mtime);
    }

    private static List<String> filesUnder(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (var s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }
}
