package dev.banger.image.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.host.Executables;
import dev.banger.image.ImagePuller;
import dev.banger.image.PullListener;
import dev.banger.image.PullOptions;
import dev.banger.image.registry.ContentStore;
import dev.banger.image.registry.ImageSources;
import dev.banger.testkit.OciLayoutBuilder;
import dev.banger.testkit.TarLayer;
import dev.banger.testkit.TestAssets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile layers, each pulled through the facade from an OCI layout on top of a benign base layer: each is refused
 * with an error naming the layer and the entry, nothing lands outside the staging tree, and nothing is left in the
 * work directory or at the target.
 */
class HostileLayerTest {

    @TempDir
    Path tmp;
    Path outside;
    Path work;
    Path target;

    @BeforeEach
    void setUp() throws IOException {
        outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("victim"), "precious\n");
        work = tmp.resolve("work");
        target = tmp.resolve("image.ext4");
    }

    @Test
    void absolutePath_isRefused() {
        Path escape = outside.resolve("pwned");
        assertRefused(new TarLayer().file(escape.toString(), "x"), escape.toString(), "absolute path");
        assertThat(escape).doesNotExist();
    }

    @Test
    void dotDotEscape_isRefused() {
        String name = "etc/../../../../../../.." + outside + "/pwned";
        assertRefused(new TarLayer().file(name, "x"), name, "'..'");
        assertThat(outside.resolve("pwned")).doesNotExist();
    }

    @Test
    void writeThroughSymlinkInTheSameLayer_isRefused() {
        assertRefused(new TarLayer().symlink("evil", outside.toString()).file("evil/pwned", "x"), "evil/pwned",
                "symlink");
        assertThat(outside.resolve("pwned")).doesNotExist();
    }

    @Test
    void writeThroughSymlinkFromALowerLayer_isRefused() {
        assertRefused(List.of(new TarLayer().symlink("etc/ssh", outside.toString())),
                new TarLayer().file("etc/ssh/pwned", "x"), "etc/ssh/pwned", "symlink");
        assertThat(outside.resolve("pwned")).doesNotExist();
    }

    @Test
    void whiteoutThroughSymlink_isRefused() {
        assertRefused(List.of(new TarLayer().symlink("evil", outside.toString())),
                new TarLayer().file("evil/.wh.victim", ""), "evil/.wh.victim", "symlink");
        assertThat(outside.resolve("victim")).hasContent("precious");
    }

    @Test
    void hardlinkToOutside_isRefused() {
        assertRefused(new TarLayer().hardlink("etc/shadow", "../../../../.." + outside + "/victim"), "etc/shadow",
                "hardlink target");
    }

    @Test
    void hardlinkToAbsoluteTarget_isRefused() {
        assertRefused(new TarLayer().hardlink("etc/shadow", outside.resolve("victim").toString()), "etc/shadow",
                "absolute path");
    }

    @Test
    void hardlinkThroughSymlink_isRefused() {
        assertRefused(new TarLayer().symlink("evil", outside.toString()).hardlink("etc/shadow", "evil/victim"),
                "etc/shadow", "symlink");
    }

    @Test
    void overLongName_isRefused() {
        String name = "etc/" + "a".repeat(300);
        assertRefused(new TarLayer().file(name, "x"), name, "longer than 255 bytes");
    }

    @Test
    void entryCountBomb_isRefused() {
        TarLayer bomb = new TarLayer();
        for (int i = 0; i < 300; i++) {
            bomb.file("many/f" + i, "");
        }
        assertRefused(List.of(), bomb, "many/f", "entries in the image (limit)", new FlattenLimits(1L << 30, 200));
    }

    @Test
    void sizeBomb_isRefused() {
        assertRefused(List.of(), new TarLayer().zeros("zeros", 64L << 20), "zeros", "(limit)",
                new FlattenLimits(8L << 20, 1000));
    }

    @Test
    void symlinkAsTheFinalComponent_isReplacedNotWrittenThrough() throws IOException {
        OciLayoutBuilder b = new OciLayoutBuilder(tmp.resolve("oci"));
        OciLayoutBuilder.Blob lower = b.layer(new TarLayer().symlink("link", outside.resolve("victim").toString()),
                TarLayer.Compression.GZIP);
        OciLayoutBuilder.Blob upper = b.layer(new TarLayer().file("link", "replaced\n"), TarLayer.Compression.GZIP);
        b.tag("v1", b.image("amd64", List.of(lower, upper), List.of(), null, List.of()));

        puller().pull("oci-layout:" + b.dir() + ":v1", options(FlattenLimits.DEFAULT), PullListener.NONE);

        assertThat(outside.resolve("victim")).hasContent("precious");
        assertThat(new dev.banger.testkit.Ext4Inspector(target).cat("/link")).isEqualTo("replaced\n");
    }

    private void assertRefused(TarLayer hostile, String entry, String reason) {
        assertRefused(List.of(), hostile, entry, reason, FlattenLimits.DEFAULT);
    }

    private void assertRefused(List<TarLayer> lower, TarLayer hostile, String entry, String reason) {
        assertRefused(lower, hostile, entry, reason, FlattenLimits.DEFAULT);
    }

    private void assertRefused(List<TarLayer> lower, TarLayer hostile, String entry, String reason,
                               FlattenLimits limits) {
        OciLayoutBuilder b = new OciLayoutBuilder(tmp.resolve("oci"));
        List<OciLayoutBuilder.Blob> layers = new ArrayList<>();
        layers.add(b.layer(new TarLayer().dir("etc").file("etc/os-release", "ID=test\n"),
                TarLayer.Compression.GZIP));
        for (TarLayer l : lower) {
            layers.add(b.layer(l, TarLayer.Compression.GZIP));
        }
        OciLayoutBuilder.Blob bad = b.layer(hostile, TarLayer.Compression.GZIP);
        layers.add(bad);
        b.tag("v1", b.image("amd64", layers, List.of(), null, List.of()));

        assertThatThrownBy(() -> puller().pull("oci-layout:" + b.dir() + ":v1", options(limits), PullListener.NONE))
                .isInstanceOf(UnsafeLayerException.class)
                .hasMessageContaining("layer " + layers.size() + "/" + layers.size())
                .hasMessageContaining(bad.digest())
                .hasMessageContaining(entry.length() > 150 ? entry.substring(0, 150) : entry)
                .hasMessageContaining(reason);

        assertThat(target).doesNotExist();
        assertThat(listRecursively(work)).as("staging removed").isEmpty();
        assertThat(listRecursively(tmp).stream().filter(p -> p.startsWith(".image.ext4"))).isEmpty();
        assertThat(listRecursively(outside)).containsExactly("victim");
    }

    private ImagePuller puller() {
        return new ImagePuller(new ContentStore(tmp.resolve("store")), work, TestAssets.runner(),
                Executables.fromEnvironment(), ImageSources.newHttpClient());
    }

    private PullOptions options(FlattenLimits limits) {
        return PullOptions.to(target).withHeadroom(8L << 20).withLimits(limits)
                .withDockerConfig(tmp.resolve("none.json"));
    }

    private static List<String> listRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString()).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
