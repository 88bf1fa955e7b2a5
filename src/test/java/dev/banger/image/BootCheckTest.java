package dev.banger.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.host.Command;
import dev.banger.testkit.Ext4Inspector;
import dev.banger.testkit.TestAssets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real ext4 files made with mkfs.ext4 -d, read with debugfs as register does. */
class BootCheckTest {

    @TempDir
    Path tmp;

    private final BootCheck check = new BootCheck(TestAssets.runner());

    @Test
    void mergedUsrShellThroughTwoSymlinks_isFine() throws IOException {
        Path root = tree();
        Files.createDirectories(root.resolve("usr/bin"));
        Files.createSymbolicLink(root.resolve("bin"), Path.of("usr/bin"));
        executable(root.resolve("usr/bin/dash"));
        Files.createSymbolicLink(root.resolve("usr/bin/sh"), Path.of("dash"));

        assertThat(check.problem(ext4(root))).isEmpty();
    }

    @Test
    void initAloneIsEnough() throws IOException {
        Path root = tree();
        Files.createDirectories(root.resolve("sbin"));
        executable(root.resolve("sbin/init"));

        assertThat(check.problem(ext4(root))).isEmpty();
    }

    @Test
    void aBinaryReplacedByALinkToItself_isReported() throws IOException {
        Path root = tree();
        Files.createDirectories(root.resolve("bin"));
        Files.createSymbolicLink(root.resolve("bin/busybox"), Path.of("/bin/busybox"));
        Files.createSymbolicLink(root.resolve("bin/sh"), Path.of("/bin/busybox"));

        assertThat(check.problem(ext4(root))).hasValueSatisfying(p -> assertThat(p)
                .contains("/bin/sh is a symlink loop (/bin/busybox links back to itself)")
                .contains("/sbin/init does not exist"));
    }

    @Test
    void aSymlinkToTheHostsShellIsNotFollowedOnTheHost() throws IOException {
        Path root = tree();
        Files.createDirectories(root.resolve("bin"));
        Files.createSymbolicLink(root.resolve("bin/sh"), Path.of("/usr/bin/bash"));

        assertThat(check.problem(ext4(root))).as("the host has /usr/bin/bash; the image does not")
                .hasValueSatisfying(p -> assertThat(p).contains("/bin/sh is a symlink to /usr/bin/bash, which does"
                        + " not exist"));
    }

    @Test
    void aNonExecutableShellOrADirectory_isReported() throws IOException {
        Path root = tree();
        Files.createDirectories(root.resolve("bin"));
        Files.writeString(root.resolve("bin/sh"), "#!/nothing\n");
        Files.createDirectories(root.resolve("sbin/init"));

        assertThat(check.problem(ext4(root))).hasValueSatisfying(p -> assertThat(p)
                .contains("/bin/sh is not executable").contains("/sbin/init is a directory, not a program"));
    }

    @Test
    void aLongSymlinkTargetStoredInABlock_isFollowed() throws IOException {
        Path root = tree();
        String deep = "usr/lib/a-directory-name-long-enough/to-push-the-target/past-sixty-bytes";
        Files.createDirectories(root.resolve(deep));
        executable(root.resolve(deep).resolve("dash"));
        Files.createDirectories(root.resolve("bin"));
        Files.createSymbolicLink(root.resolve("bin/sh"), Path.of("/" + deep + "/dash"));

        assertThat(check.problem(ext4(root))).isEmpty();
    }

    /** The README's busybox recipe, run as written (with its directory and file moved into this test's temp dir). */
    @Test
    void theReadmeBusyboxRecipe_buildsAnImageWithARunnableShell() throws IOException {
        Path readme = Path.of("README.md");
        Matcher block = Pattern.compile("```sh\n(mkdir -p /tmp/rootfs[^`]*?)```").matcher(Files.readString(readme));
        assertThat(block.find()).as("the busybox recipe in README.md").isTrue();
        String script = block.group(1).replace("/tmp/rootfs", tmp.resolve("rootfs").toString())
                .replace("/tmp/busybox.ext4", tmp.resolve("busybox.ext4").toString());
        assertThat(script).as("the recipe uses only its own paths").doesNotContain("/tmp/rootfs", "/tmp/busybox");

        TestAssets.runner().run(Command.of("bash", "-euo", "pipefail", "-c", script));

        Path image = tmp.resolve("busybox.ext4");
        assertThat(check.problem(image)).isEmpty();
        Ext4Inspector disk = new Ext4Inspector(image);
        assertThat(disk.stat("/bin/busybox").type()).as("the binary itself, not a link to itself")
                .isEqualTo("regular");
        assertThat(disk.linkTarget("/bin/sh")).isEqualTo("/bin/busybox");
    }

    private Path tree() throws IOException {
        return Files.createDirectories(tmp.resolve("root"));
    }

    private static void executable(Path file) throws IOException {
        Files.writeString(file, "#!/bin/true\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private Path ext4(Path root) {
        Path image = tmp.resolve("image.ext4");
        TestAssets.runner().run(Command.of(List.of("mkfs.ext4", "-q", "-F", "-d", root.toString(), image.toString(),
                "16M")));
        return image;
    }
}
