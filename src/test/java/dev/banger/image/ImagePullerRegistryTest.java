package dev.banger.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.host.Command;
import dev.banger.image.registry.Digest;
import dev.banger.image.registry.UnexpectedBlobDigestException;
import dev.banger.image.registry.UnexpectedBlobSizeException;
import dev.banger.ssh.SshdDropIn;
import dev.banger.testkit.Ext4Inspector;
import dev.banger.testkit.RegistryFixture;
import dev.banger.testkit.TestAssets;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pulls from a real registry (docker-registry 2.8 on loopback) images the test assembled and pushed with skopeo. */
class ImagePullerRegistryTest {

    static RegistryFixture registry;
    static TestImages images;
    static Path layoutDir;

    @BeforeAll
    static void pushImages() throws IOException {
        layoutDir = Files.createTempDirectory("banger-oci-");
        images = new TestImages(layoutDir.resolve("layout"));
        registry = RegistryFixture.start();
        for (String tag : List.of("v1", "multi", "derived")) {
            registry.push(images.layout, tag, "test/img");
        }
    }

    @AfterAll
    static void stop() {
        if (registry != null) {
            registry.close();
        }
        TestAssets.deleteTree(layoutDir);
    }

    @Test
    void pullByTag_flattensLayersWithWhiteoutsOwnershipAndModes(@TempDir Path tmp) {
        PullTestSupport s = new PullTestSupport(tmp);
        String ref = registry.host() + "/test/img:v1";

        PulledImage pulled = s.puller.pull(ref, s.options("v1"), PullListener.NONE);

        assertThat(pulled.sourceReference()).isEqualTo(ref);
        assertThat(pulled.manifestDigest()).startsWith("sha256:");
        assertThat(pulled.config().envMap()).containsEntry("GREETING", "hello world");
        assertThat(pulled.config().workingDir()).isEqualTo("/home/user");
        assertThat(pulled.config().cmd()).containsExactly("/bin/sh");
        assertThat(pulled.sizeBytes()).isEqualTo(pulled.rootfsExt4().toFile().length());
        Ext4Inspector disk = new Ext4Inspector(pulled.rootfsExt4());
        assertThat(disk.stat("/home/user/owned")).as("owner and mode from the layer")
                .extracting(Ext4Inspector.Stat::uid, Ext4Inspector.Stat::gid, Ext4Inspector.Stat::mode)
                .containsExactly(1000, 1000, 0640);
        assertThat(disk.stat("/home/user")).extracting(Ext4Inspector.Stat::uid, Ext4Inspector.Stat::mode)
                .containsExactly(1000, 0750);
        assertThat(disk.stat("/bin/suid").mode()).isEqualTo(04755);
        assertThat(disk.exists("/etc/removed")).as("whited out by the top layer").isFalse();
        assertThat(disk.exists("/etc/.wh.removed")).isFalse();
        assertThat(disk.exists("/opaque/old1")).as("opaque dir hides lower content").isFalse();
        assertThat(disk.exists("/opaque/sub")).isFalse();
        assertThat(disk.cat("/opaque/new")).isEqualTo("upper\n");
        assertThat(disk.linkTarget("/etc/link")).isEqualTo("../bin/busybox");
        assertThat(disk.linkTarget("/bin/sh")).isEqualTo("busybox");
        assertThat(disk.stat("/bin/ls").raw()).as("hardlink").contains("Links: 2");
        assertThat(disk.cat("/etc/arch")).isEqualTo("amd64\n");
        assertThat(disk.cat("/" + SshdDropIn.PATH)).isEqualTo(SshdDropIn.TEXT);
        assertThat(disk.cat("/etc/ssh/sshd_config")).startsWith("Include /etc/ssh/sshd_config.d/*.conf\n");
        assertThat(disk.stat("/root")).extracting(Ext4Inspector.Stat::uid, Ext4Inspector.Stat::gid,
                Ext4Inspector.Stat::mode).containsExactly(0, 0, 0755);
        for (String mount : List.of("/proc", "/sys", "/dev", "/run", "/tmp")) {
            assertThat(disk.stat(mount)).as(mount).isNotNull().extracting(Ext4Inspector.Stat::type)
                    .isEqualTo("directory");
        }
        assertThat(disk.stat("/tmp").mode()).isEqualTo(01777);
        assertThat(disk.cat("/etc/hostname")).isEqualTo("banger\n");
        assertThat(PullTestSupport.filesUnder(s.work)).as("staging removed").isEmpty();
    }

    @Test
    void pullByDigest_getsTheSameImage(@TempDir Path tmp) {
        PullTestSupport s = new PullTestSupport(tmp);
        PulledImage byTag = s.puller.pull(registry.host() + "/test/img:v1", s.options("tag"), PullListener.NONE);

        PulledImage byDigest = s.puller.pull(registry.host() + "/test/img@" + byTag.manifestDigest(),
                s.options("digest"), PullListener.NONE);

        assertThat(byDigest.manifestDigest()).isEqualTo(byTag.manifestDigest());
        assertThat(new Ext4Inspector(byDigest.rootfsExt4()).stat("/home/user/owned").uid()).isEqualTo(1000);
    }

    @Test
    void pullOfMultiArchIndex_choosesLinuxAmd64(@TempDir Path tmp) {
        PullTestSupport s = new PullTestSupport(tmp);

        PulledImage pulled = s.puller.pull(registry.host() + "/test/img:multi", s.options("multi"),
                PullListener.NONE);

        assertThat(new Ext4Inspector(pulled.rootfsExt4()).cat("/etc/arch")).isEqualTo("amd64\n");
        assertThat(pulled.manifestDigest()).as("the index's digest, which the reference named")
                .isEqualTo(images.multi.digest());
    }

    @Test
    void secondPullOfImageSharingTheBaseLayer_downloadsNoBaseLayerBytes(@TempDir Path tmp) {
        registry.push(images.layout, "v1", "cache/first");
        registry.push(images.layout, "derived", "cache/second");
        PullTestSupport s = new PullTestSupport(tmp);
        PullTestSupport.Recorder first = new PullTestSupport.Recorder();
        PullTestSupport.Recorder second = new PullTestSupport.Recorder();

        s.puller.pull(registry.host() + "/cache/first:v1", s.options("first"), first);
        s.puller.pull(registry.host() + "/cache/second:derived", s.options("second"), second);

        String base = images.base.digest();
        assertThat(first.finalState(base)).isEqualTo(PullListener.State.FETCHED);
        assertThat(second.finalState(base)).isEqualTo(PullListener.State.CACHED);
        assertThat(second.bytesFetched(base)).isZero();
        assertThat(second.finalState(images.extra.digest())).isEqualTo(PullListener.State.FETCHED);
        assertThat(registry.blobGets("cache/second", base)).as("registry access log: base blob never requested")
                .isZero();
        assertThat(registry.blobGets("cache/first", base)).isEqualTo(1);
    }

    @Test
    void corruptedBlobInRegistryStorage_abortsAndLeavesNothingBehind(@TempDir Path tmp) throws IOException {
        OciImage img = uniqueImage(tmp, "corrupt");
        registry.push(img.layout, "v1", "corrupt/img");
        try (RandomAccessFile data = new RandomAccessFile(registry.blobData(img.layerDigest).toFile(), "rw")) {
            data.seek(data.length() / 2);
            int b = data.read();
            data.seek(data.length() / 2);
            data.write(b ^ 0xff);
        }
        PullTestSupport s = new PullTestSupport(tmp.resolve("pull"));
        PullOptions options = s.options("corrupt");

        assertThatThrownBy(() -> s.puller.pull(registry.host() + "/corrupt/img:v1", options, PullListener.NONE))
                .isInstanceOf(UnexpectedBlobDigestException.class)
                .hasMessageContaining(img.layerDigest);

        assertThat(s.store.has(new dev.banger.image.registry.Descriptor(null, Digest.parse(img.layerDigest),
                Files.size(registry.blobData(img.layerDigest))))).isFalse();
        assertThat(PullTestSupport.filesUnder(s.store.root().resolve("ingest"))).isEmpty();
        assertThat(PullTestSupport.filesUnder(s.store.root().resolve("blobs"))).as("only the config got in")
                .hasSize(1);
        assertThat(PullTestSupport.filesUnder(s.work)).isEmpty();
        assertThat(options.rootfsTarget()).doesNotExist();
        assertThat(PullTestSupport.filesUnder(tmp.resolve("pull"))).allMatch(f -> f.startsWith("store/"));
    }

    @Test
    void truncatedBlobInRegistryStorage_abortsWithSizeMismatch(@TempDir Path tmp) throws IOException {
        OciImage img = uniqueImage(tmp, "short");
        registry.push(img.layout, "v1", "short/img");
        try (RandomAccessFile data = new RandomAccessFile(registry.blobData(img.layerDigest).toFile(), "rw")) {
            data.setLength(data.length() - 10);
        }
        PullTestSupport s = new PullTestSupport(tmp.resolve("pull"));

        assertThatThrownBy(() -> s.puller.pull(registry.host() + "/short/img:v1", s.options("short"),
                PullListener.NONE)).isInstanceOfAny(UnexpectedBlobSizeException.class,
                dev.banger.image.registry.RegistryException.class);

        assertThat(PullTestSupport.filesUnder(s.store.root().resolve("ingest"))).isEmpty();
        assertThat(PullTestSupport.filesUnder(s.work)).isEmpty();
    }

    @Test
    void twoConcurrentPullsOfTheSameReference_bothSucceedAndShareOneCopyOfEachBlob(@TempDir Path tmp)
            throws Exception {
        PullTestSupport s = new PullTestSupport(tmp);
        String ref = registry.host() + "/test/img:v1";
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<PulledImage>> pulls = new ArrayList<>();
            for (String name : List.of("a", "b")) {
                pulls.add(pool.submit(() -> s.puller.pull(ref, s.options(name), PullListener.NONE)));
            }
            PulledImage a = pulls.get(0).get();
            PulledImage b = pulls.get(1).get();
            assertThat(a.manifestDigest()).isEqualTo(b.manifestDigest());
            assertThat(new Ext4Inspector(a.rootfsExt4()).cat("/opaque/new")).isEqualTo("upper\n");
            assertThat(new Ext4Inspector(b.rootfsExt4()).cat("/opaque/new")).isEqualTo("upper\n");
        } finally {
            pool.shutdownNow();
        }
        assertThat(PullTestSupport.filesUnder(s.store.root().resolve("blobs"))).as("config + 2 layers, once each")
                .hasSize(3);
        for (String blob : PullTestSupport.filesUnder(s.store.root().resolve("blobs"))) {
            Path file = s.store.root().resolve("blobs").resolve(blob);
            assertThat("sha256:" + dev.banger.testkit.OciLayoutBuilder.sha256(Files.readAllBytes(file)))
                    .as("blob content matches its name").isEqualTo("sha256:" + file.getFileName());
        }
        assertThat(PullTestSupport.filesUnder(s.store.root().resolve("ingest"))).isEmpty();
    }

    @Test
    void pullFromOciLayout_matchesTheRegistryPull(@TempDir Path tmp) {
        PullTestSupport s = new PullTestSupport(tmp);

        PulledImage pulled = s.puller.pull("oci-layout:" + images.layout + ":v1", s.options("layout"),
                PullListener.NONE);

        assertThat(pulled.manifestDigest()).isEqualTo(images.v1.digest());
        assertThat(pulled.sourceReference()).isEqualTo("oci-layout:" + images.layout + ":v1");
        Ext4Inspector disk = new Ext4Inspector(pulled.rootfsExt4());
        assertThat(disk.stat("/home/user/owned")).extracting(Ext4Inspector.Stat::uid, Ext4Inspector.Stat::gid)
                .containsExactly(1000, 1000);
        assertThat(disk.exists("/etc/removed")).isFalse();
        assertThat(disk.exists("/opaque/old1")).isFalse();
        assertThat(pulled.config().workingDir()).isEqualTo("/home/user");
    }

    @Test
    void pullFromDockerArchive_madeBySkopeo(@TempDir Path tmp) {
        PullTestSupport s = new PullTestSupport(tmp);
        Path archive = tmp.resolve("img.tar");
        // docker-archive cannot hold zstd layers, so the gzip-only image goes in
        TestAssets.runner().run(Command.of("skopeo", "--insecure-policy", "copy", "--quiet",
                "oci:" + images.layout + ":derived", "docker-archive:" + archive + ":test/img:derived"));

        PulledImage pulled = s.puller.pull("docker-archive:" + archive, s.options("archive"), PullListener.NONE);

        assertThat(pulled.sourceReference()).isEqualTo("docker-archive:" + archive);
        assertThat(pulled.manifestDigest()).as("the image ID").startsWith("sha256:");
        Ext4Inspector disk = new Ext4Inspector(pulled.rootfsExt4());
        assertThat(disk.cat("/etc/derived")).isEqualTo("derived\n");
        assertThat(disk.stat("/home/user")).extracting(Ext4Inspector.Stat::uid, Ext4Inspector.Stat::gid)
                .containsExactly(1000, 1000);
        assertThat(disk.exists("/etc/removed")).as("no top layer in this image").isTrue();
        assertThat(pulled.config().envMap()).containsEntry("GREETING", "hello world");

        PulledImage byTag = s.puller.pull("docker-archive:" + archive + ":test/img:derived", s.options("tagged"),
                PullListener.NONE);
        assertThat(byTag.manifestDigest()).isEqualTo(pulled.manifestDigest());
    }

    /** A one-layer image whose layer no other test shares. */
    record OciImage(Path layout, String layerDigest) {
    }

    static OciImage uniqueImage(Path tmp, String marker) {
        dev.banger.testkit.OciLayoutBuilder b = new dev.banger.testkit.OciLayoutBuilder(tmp.resolve(marker + "-oci"));
        byte[] noise = new byte[256 * 1024];
        new java.util.Random(marker.hashCode()).nextBytes(noise);
        dev.banger.testkit.OciLayoutBuilder.Blob layer = b.layer(new dev.banger.testkit.TarLayer()
                .file("etc/" + marker, noise, 0644, 0, 0), dev.banger.testkit.TarLayer.Compression.GZIP);
        b.tag("v1", b.image("amd64", List.of(layer), List.of(), null, List.of("/bin/sh")));
        return new OciImage(b.dir(), layer.digest());
    }
}
