package dev.banger.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.host.Command;
import dev.banger.json.Json;
import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.Ext4Inspector;
import dev.banger.testkit.RegistryFixture;
import dev.banger.testkit.TestAssets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A real distribution image, as people build them: a {@code debootstrap --variant=minbase} tree (device nodes in
 * /dev and all) as the base layer, and a second layer with a whiteout, an opaque directory, a file carrying a
 * {@code security.capability} xattr set by setcap, a hardlink pair, a setuid binary and a FIFO, packed by GNU tar.
 * Pushed to a real registry, pulled by banger, booted; everything is checked inside the guest.
 */
@Tag("vm")
class RealImageIT {

    private BangerHome banger;
    private RegistryFixture registry;
    private Path work;

    @BeforeEach
    void setUp() throws Exception {
        work = Files.createTempDirectory("banger-real-image-");
        banger = BangerHome.create();
        registry = RegistryFixture.startIn(banger.netns());
        ok(banger.banger("kernel", "import", "cloud", "--deb", TestAssets.debianCloudKernelDeb().toString()));
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            banger.close();
        } finally {
            registry.close();
            TestAssets.deleteTree(work);
        }
    }

    @Test
    void aDebootstrapImageWithATopLayerPullsBootsAndKeepsEveryKindOfFile() throws Exception {
        registry.push(RealImage.layout(work), "v1", "real/debian");

        Result pull = banger.banger(Duration.ofMinutes(10), "image", "pull", "--name", "real",
                registry.host() + "/real/debian:v1");
        ok(pull);
        assertThat(Path.of("/dev/shm/banger-" + Integer.toHexString(banger.stateDir().toString().hashCode())))
                .as("no empty tmpfs scratch directory left after the pull").doesNotExist();

        Map<?, ?> shown = json(ok(banger.banger("image", "show", "real", "--json")));
        Ext4Inspector disk = new Ext4Inspector(Path.of((String) shown.get("rootfsPath")));
        assertThat(disk.stat("/dev/null")).extracting(Ext4Inspector.Stat::type, Ext4Inspector.Stat::device,
                Ext4Inspector.Stat::mode).containsExactly("character", "1:3", 0666);
        assertThat(disk.stat("/dev/ptmx")).extracting(Ext4Inspector.Stat::type, Ext4Inspector.Stat::device)
                .containsExactly("character", "5:2");
        assertThat(disk.xattrs("/usr/local/bin/capcat")).contains("security.capability");

        ok(banger.banger(Duration.ofMinutes(5), "vm", "create", "--image", "real", "--memory", "512M", "--disk",
                "64M", "real"));
        String script = String.join("\n",
                "mount --bind / /mnt",
                "stat -c 'null %F %t:%T %a %u:%g' /mnt/dev/null",
                "stat -c 'ptmx %F %t:%T %a %u:%g' /mnt/dev/ptmx",
                "umount /mnt",
                "stat -c 'fifo %F %a %u:%g' /var/banger-fifo",
                "test -e /etc/issue.net && echo 'issue.net present' || echo 'issue.net gone'",
                "echo \"apt.conf.d: $(ls -A /etc/apt/apt.conf.d | tr '\\n' ' ')\"",
                "stat -c 'link %i %h' /usr/local/share/banger/a /usr/local/share/banger/b",
                "stat -c 'suid %a %u' /usr/local/bin/suid-id",
                "echo \"suid euid as nobody: $(setpriv --reuid=65534 --regid=65534 --clear-groups"
                        + " /usr/local/bin/suid-id -u)\"",
                "setpriv --reuid=65534 --regid=65534 --clear-groups /usr/local/bin/capcat /etc/shadow >/dev/null"
                        + " && echo 'capcat as nobody reads /etc/shadow' || echo 'capcat as nobody refused'",
                "setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/cat /etc/shadow >/dev/null 2>&1"
                        + " && echo 'cat as nobody reads /etc/shadow' || echo 'cat as nobody refused'",
                "cat /etc/debian_version >/dev/null && echo 'debian'");
        String out = ok(banger.banger(Duration.ofMinutes(2), "vm", "exec", "real", "--", "sh", "-c", script))
                .stdout();

        assertThat(out).as("the image's own /dev nodes (under the guest's devtmpfs)")
                .contains("null character special file 1:3 666 0:0\n", "ptmx character special file 5:2 666 0:0\n");
        assertThat(out).contains("fifo fifo 640 0:0\n");
        assertThat(out).as("whiteout").contains("issue.net gone\n");
        assertThat(out).as("opaque directory: only the top layer's file").contains("apt.conf.d: 99banger \n");
        List<String> links = out.lines().filter(l -> l.startsWith("link ")).toList();
        assertThat(links).hasSize(2);
        assertThat(links.get(0)).as("hardlinks share an inode").isEqualTo(links.get(1)).endsWith(" 2");
        assertThat(out).contains("suid 4755 0\n", "suid euid as nobody: 0\n");
        assertThat(out).as("security.capability (cap_dac_read_search) works in the guest")
                .contains("capcat as nobody reads /etc/shadow\n", "cat as nobody refused\n");
        assertThat(out).contains("debian\n");
    }

    private static Result ok(Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result;
    }

    private static Map<?, ?> json(Result result) {
        return (Map<?, ?>) Json.parseTree(result.stdout());
    }

    /** Builds the image's OCI layout; the benchmark uses it too. */
    static final class RealImage {

        private RealImage() {
        }

        /** The OCI layout of the two-layer image, tagged "v1", built under {@code work}. */
        static Path layout(Path work) throws IOException {
            Path base = TestAssets.debianMinbaseLayer(DebootstrapImage.suite(Path.of("/etc/os-release")),
                    DebootstrapImage.mirror(Path.of("/etc/apt")));
            Path top = topLayer(work);
            Path dir = work.resolve("layout");
            dev.banger.testkit.OciLayoutBuilder b = new dev.banger.testkit.OciLayoutBuilder(dir);
            dev.banger.testkit.OciLayoutBuilder.Blob baseBlob = b.blob(
                    dev.banger.testkit.OciLayoutBuilder.LAYER_GZIP, Files.readAllBytes(base));
            dev.banger.testkit.OciLayoutBuilder.Blob topBlob = b.blob(
                    dev.banger.testkit.OciLayoutBuilder.LAYER_GZIP, Files.readAllBytes(top));
            b.tag("v1", b.image("amd64", List.of(baseBlob, topBlob),
                    List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), null,
                    List.of("/bin/bash")));
            return dir;
        }

        /**
         * The top layer, as GNU tar packs a tree: a whiteout of /etc/issue.net, /etc/apt/apt.conf.d made opaque
         * with one new file, /usr/local/bin/capcat (cat with cap_dac_read_search+ep by setcap), a hardlink pair,
         * /usr/local/bin/suid-id (id, setuid root) and the FIFO /var/banger-fifo (0640).
         */
        static Path topLayer(Path work) throws IOException {
            Path tree = Files.createDirectories(work.resolve("top"));
            Files.createDirectories(tree.resolve("etc/apt/apt.conf.d"));
            Files.writeString(tree.resolve("etc/.wh.issue.net"), "");
            Files.writeString(tree.resolve("etc/apt/apt.conf.d/.wh..wh..opq"), "");
            Files.writeString(tree.resolve("etc/apt/apt.conf.d/99banger"), "// from the top layer\n");
            Path bin = Files.createDirectories(tree.resolve("usr/local/bin"));
            Files.copy(Path.of("/usr/bin/cat"), bin.resolve("capcat"));
            run("setcap", "cap_dac_read_search+ep", bin.resolve("capcat").toString());
            Files.copy(Path.of("/usr/bin/id"), bin.resolve("suid-id"));
            run("chmod", "4755", bin.resolve("suid-id").toString());
            Path share = Files.createDirectories(tree.resolve("usr/local/share/banger"));
            Files.writeString(share.resolve("a"), "one inode, two names\n");
            Files.createLink(share.resolve("b"), share.resolve("a"));
            Files.createDirectories(tree.resolve("var"));
            run("mkfifo", "-m", "0640", tree.resolve("var/banger-fifo").toString());
            Path layer = work.resolve("top.tar.gz");
            List<String> argv = new ArrayList<>(List.of("tar", "--numeric-owner", "--xattrs", "--xattrs-include=security.capability", "--sort=name", "-C", tree.toString(),
                    "-czf", layer.toString(), "etc", "usr", "var"));
            run(argv.toArray(String[]::new));
            return layer;
        }

        private static void run(String... argv) {
            TestAssets.runner().run(Command.of(argv).withTimeout(Duration.ofMinutes(2)));
        }
    }
}
