package dev.banger.image;

import dev.banger.testkit.OciLayoutBuilder;
import dev.banger.testkit.TarLayer;
import dev.banger.testkit.TarLayer.Compression;
import dev.banger.testkit.TestAssets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The images the pull tests use, assembled as an OCI layout: a busybox base layer (gzip) with files a second
 * layer (zstd) whites out, an opaque directory, a file owned by 1000:1000, setuid bits, links and a stand-in sshd;
 * tagged {@code v1} (single-arch), {@code multi} (an index with amd64 and arm64 images) and {@code derived} (the
 * same base layer plus one more).
 */
final class TestImages {

    static final List<String> ENV = List.of("PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hello world");
    final OciLayoutBuilder.Blob base;
    final OciLayoutBuilder.Blob top;
    final OciLayoutBuilder.Blob extra;
    final OciLayoutBuilder.Blob v1;
    final OciLayoutBuilder.Blob multi;
    final OciLayoutBuilder.Blob derived;
    final Path layout;
    /** Writes more into the layout (a tag moved by a test). */
    final OciLayoutBuilder builder;

    TestImages(Path layoutDir) {
        this.layout = layoutDir;
        OciLayoutBuilder b = new OciLayoutBuilder(layoutDir);
        this.builder = b;
        TarLayer baseLayer = new TarLayer()
                .dir("bin").dir("etc").dir("usr").dir("usr/sbin").dir("opaque").dir("opaque/sub")
                .dir("home", 0755, 0, 0).dir("home/user", 0750, 1000, 1000)
                .file("bin/busybox", busybox(), 0755, 0, 0)
                .symlink("bin/sh", "busybox")
                .hardlink("bin/ls", "bin/busybox")
                .file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n")
                .file("etc/group", "root:x:0:\nuser:x:1000:\n")
                .file("etc/removed", "whited out by the top layer\n")
                .file("opaque/old1", "lower\n")
                .file("opaque/sub/old2", "lower\n")
                .file("usr/sbin/sshd", "#!/bin/sh\n".getBytes(), 0755, 0, 0)
                .dir("etc/ssh")
                .file("etc/ssh/sshd_config", "PermitRootLogin yes\n");
        TarLayer topLayer = new TarLayer()
                .file("etc/.wh.removed", "")
                .dir("opaque")
                .file("opaque/.wh..wh..opq", "")
                .file("opaque/new", "upper\n")
                .file("home/user/owned", "mine\n".getBytes(), 0640, 1000, 1000)
                .file("bin/suid", "x".getBytes(), 04755, 0, 0)
                .symlink("etc/link", "../bin/busybox")
                .file("etc/arch", "amd64\n");
        base = b.layer(baseLayer, Compression.GZIP);
        top = b.layer(topLayer, Compression.ZSTD);
        extra = b.layer(new TarLayer().file("etc/derived", "derived\n"), Compression.GZIP);
        v1 = b.image("amd64", List.of(base, top), ENV, "/home/user", List.of("/bin/sh"));
        OciLayoutBuilder.Blob arm = b.image("arm64", List.of(base,
                b.layer(new TarLayer().file("etc/arch", "arm64\n"), Compression.GZIP)), ENV, null, List.of("/bin/sh"));
        Map<String, OciLayoutBuilder.Blob> platforms = new LinkedHashMap<>();
        platforms.put("arm64", arm);
        platforms.put("amd64", v1);
        multi = b.index(platforms);
        derived = b.image("amd64", List.of(base, extra), ENV, null, List.of("/bin/sh"));
        b.tag("v1", v1).tag("multi", multi).tag("derived", derived);
    }

    private static byte[] busybox() {
        Path installed = Path.of("/bin/busybox");
        try {
            return Files.readAllBytes(Files.isExecutable(installed) ? installed : TestAssets.busybox());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
