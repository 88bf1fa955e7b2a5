package dev.banger.image.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.host.Executables;
import dev.banger.image.ImagePuller;
import dev.banger.image.PullListener;
import dev.banger.image.PullOptions;
import dev.banger.image.PulledImage;
import dev.banger.image.registry.ContentStore;
import dev.banger.image.registry.ImageSources;
import dev.banger.image.rootfs.Ext4Builder;
import dev.banger.testkit.Ext4Inspector;
import dev.banger.testkit.OciLayoutBuilder;
import dev.banger.testkit.TarLayer;
import dev.banger.testkit.TestAssets;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decompression bombs and staging space (issue 12, defect 3): runs of zeros are staged as holes and stay holes in
 * the ext4; a layer unpacking to more than its documented expansion is refused; the staging budget is shared by
 * concurrent pulls, a pull outgrowing the tmpfs share starts over on disk and one outgrowing the disk share is
 * refused with one clear line.
 */
class DecompressionBombTest {

    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;

    @TempDir
    Path tmp;
    Path work;
    Path scratch;

    @BeforeEach
    void setUp() {
        work = tmp.resolve("work");
        scratch = Path.of("/dev/shm/banger-test-bomb-" + UUID.randomUUID());
    }

    @AfterEach
    void tearDown() {
        TestAssets.deleteTree(scratch);
    }

    @Test
    void aGzipLayerOfGibibytesOfZeros_isRefusedPastTheExpansionLimit_withoutStagingTheZeros() {
        // 2 GiB of zeros in 32 files of 64 MiB, about 2 MiB of gzip: built as a stream of gzip members.
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            names.add("zeros/" + i);
        }
        OciLayoutBuilder b = new OciLayoutBuilder(tmp.resolve("oci"));
        OciLayoutBuilder.Blob bomb = b.blob(OciLayoutBuilder.LAYER_GZIP, zeroFilesGzip(names, 64 * MIB));
        assertThat(bomb.size()).as("a small blob").isLessThan(8 * MIB);
        b.tag("v1", b.image("amd64", List.of(bomb), List.of(), null, List.of()));
        // Only 16 MiB of tmpfs for staging: zeros staged as data would outgrow it and move the pull to disk.
        Recorder steps = new Recorder();
        ImagePuller puller = puller(new StagingBudget(16 * MIB, 64 * MIB, "test"));
        Path target = tmp.resolve("bomb.ext4");

        assertThatThrownBy(() -> puller.pull("oci-layout:" + b.dir() + ":v1", options(target), steps))
                .isInstanceOf(UnsafeLayerException.class)
                .hasMessageContaining("layer 1/1 (" + bomb.digest() + ")")
                .hasMessageContaining("expands to more than " + GIB + " bytes from " + bomb.size() + " compressed")
                .hasMessageContaining("limit: 100 times its compressed size");

        assertThat(steps.steps).as("1 GiB of zeros fitted in 16 MiB of tmpfs: staged as holes")
                .noneMatch(s -> s.startsWith("staging on disk"));
        assertThat(target).doesNotExist();
        assertThat(scratch).as("the tmpfs scratch directory goes with the last staging tree").doesNotExist();
        assertThat(filesUnder(work)).isEmpty();
    }

    @Test
    void aFileWhoseSizeAloneExceedsTheLayersLimit_isRefusedBeforeItIsRead() {
        OciLayoutBuilder b = new OciLayoutBuilder(tmp.resolve("oci"));
        OciLayoutBuilder.Blob bomb = b.blob(OciLayoutBuilder.LAYER_GZIP, zeroFilesGzip(List.of("big"), 1280 * MIB));
        b.tag("v1", b.image("amd64", List.of(bomb), List.of(), null, List.of()));

        assertThatThrownBy(() -> puller(StagingBudget.unlimited()).pull("oci-layout:" + b.dir() + ":v1",
                options(tmp.resolve("big.ext4")), PullListener.NONE))
                .isInstanceOf(UnsafeLayerException.class)
                .hasMessageContaining("entry 'big'")
                .hasMessageContaining("a decompression bomb?");
    }

    @Test
    void zerosWithinTheLimits_areStagedAsHoles_andStayHolesInTheExt4() throws IOException {
        Path blob = tmp.resolve("layer.tar.gz");
        byte[] middle = "data between holes\n".getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream mixed = new ByteArrayOutputStream();
        mixed.write(new byte[(int) MIB]);
        mixed.write(middle);
        mixed.write(new byte[(int) MIB]);
        Path second = tmp.resolve("second.tar.gz");
        Files.write(second, new TarLayer().file("mixed", mixed.toByteArray(), 0644, 0, 0)
                .bytes(TarLayer.Compression.GZIP));
        Files.write(blob, zeroFilesGzip(List.of("zeros"), 2 * GIB));
        Path staging = Files.createDirectories(tmp.resolve("staging"));
        StagingBudget budget = new StagingBudget(0, 64 * MIB, "test");
        StagingBudget.Charge charge = budget.open(StagingBudget.Place.DISK, staging);
        LayerFlattener flattener = new LayerFlattener(new StagingTree(staging),
                FlattenLimits.DEFAULT.withExpansion(1_000_000, GIB), charge, TestAssets.runner(),
                Executables.fromEnvironment());

        flattener.apply(blob, "layer 1/2");
        flattener.apply(second, "layer 2/2");
        flattener.finish();

        assertThat(Files.size(staging.resolve("zeros"))).isEqualTo(2 * GIB);
        assertThat(allocatedBytes(staging.resolve("zeros"))).as("2 GiB of zeros staged as a hole")
                .isLessThanOrEqualTo(64 * 1024);
        assertThat(Files.readAllBytes(staging.resolve("mixed"))).isEqualTo(mixed.toByteArray());
        assertThat(allocatedBytes(staging.resolve("mixed"))).isLessThanOrEqualTo(64 * 1024);
        assertThat(charge.bytes()).as("only allocated blocks and entries are charged").isLessThan(MIB);

        Path disk = tmp.resolve("disk.ext4");
        new Ext4Builder(TestAssets.runner(), Executables.fromEnvironment()).build(staging, disk, 8 * MIB);
        assertThat(Files.size(disk)).isGreaterThan(2 * GIB);
        assertThat(allocatedBytes(disk)).as("the ext4's metadata and journal, not the 2 GiB of zeros")
                .isLessThan(256 * MIB);
        Ext4Inspector inspector = new Ext4Inspector(disk);
        assertThat(field(inspector.stat("/zeros").raw(), "Size")).isEqualTo(2 * GIB);
        assertThat(field(inspector.stat("/zeros").raw(), "Blockcount")).as("512-byte sectors in the ext4")
                .isLessThan(64);
        assertThat(inspector.cat("/mixed").getBytes(StandardCharsets.ISO_8859_1)).hasSize(mixed.size());
        assertThat(inspector.cat("/mixed")).contains("data between holes");
        charge.close();
        assertThat(budget.used(StagingBudget.Place.DISK)).isZero();
    }

    @Test
    void aPullOutgrowingTheTmpfsShare_startsOverOnDisk() {
        OciLayoutBuilder b = compressibleImage("spill", 8 * MIB);
        Recorder steps = new Recorder();
        StagingBudget budget = new StagingBudget(4 * MIB, 64 * MIB, "test");

        PulledImage pulled = puller(budget).pull("oci-layout:" + b.dir() + ":v1", options(tmp.resolve("s.ext4")),
                steps);

        assertThat(steps.steps).contains("staging on disk: the image outgrew the tmpfs staging budget");
        assertThat(new Ext4Inspector(pulled.rootfsExt4()).stat("/data/spill").raw()).contains("Size: " + 8 * MIB);
        assertThat(budget.used(StagingBudget.Place.TMPFS)).isZero();
        assertThat(budget.used(StagingBudget.Place.DISK)).isZero();
        assertThat(scratch).doesNotExist();
        assertThat(filesUnder(work)).isEmpty();
    }

    @Test
    void aPullOutgrowingTheDiskShare_isRefusedWithOneClearLine() {
        OciLayoutBuilder b = compressibleImage("full", 8 * MIB);
        StagingBudget budget = new StagingBudget(0, 4 * MIB, "images.stagingDiskMib in config.json");
        Path target = tmp.resolve("f.ext4");

        assertThatThrownBy(() -> puller(budget).pull("oci-layout:" + b.dir() + ":v1", options(target),
                PullListener.NONE))
                .isInstanceOf(StagingSpaceException.class)
                .hasMessageStartingWith("layer 1/1 (")
                .hasMessageContaining("entry 'data/full': the disk staging budget for image pulls is used up")
                .hasMessageContaining("of 4.0 MiB (images.stagingDiskMib in config.json)")
                .hasMessageEndingWith("retry when other pulls finish, or raise the budget")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThat(target).doesNotExist();
        assertThat(budget.used(StagingBudget.Place.DISK)).isZero();
        assertThat(filesUnder(work)).isEmpty();
    }

    @Test
    void twoConcurrentPulls_shareTheDiskBudget_theSecondIsRefusedWhileTheFirstHoldsIt() throws Exception {
        OciLayoutBuilder first = compressibleImage("first", 8 * MIB);
        OciLayoutBuilder second = compressibleImage("second", 10 * MIB);
        // Alone, each fits: staging plus the ext4 being built, 2 × 8 or 2 × 10 MiB... but 10 + 10 does not:
        StagingBudget budget = new StagingBudget(0, 17 * MIB, "test");
        ImagePuller puller = puller(budget);

        withFirstPullHeld(puller, first, () -> assertThatThrownBy(() -> puller.pull("oci-layout:" + second.dir()
                + ":v1", options(tmp.resolve("b.ext4")), PullListener.NONE))
                .isInstanceOf(StagingSpaceException.class)
                .hasMessageContaining("the disk staging budget for image pulls is used up: this pull has staged")
                .hasMessageContaining(", 1 other pull holds 8.0 MiB, of 17.0 MiB"));

        assertThat(budget.used(StagingBudget.Place.DISK)).as("every charge given back").isZero();
        puller.pull("oci-layout:" + first.dir() + ":v1", options(tmp.resolve("c.ext4")), PullListener.NONE);
        assertThat(filesUnder(work)).isEmpty();
    }

    @Test
    void twoConcurrentPulls_shareTheTmpfsBudget_theSecondSpillsToDisk() throws Exception {
        OciLayoutBuilder first = compressibleImage("first", 8 * MIB);
        OciLayoutBuilder second = compressibleImage("second", 8 * MIB);
        StagingBudget budget = new StagingBudget(12 * MIB, 64 * MIB, "test");
        ImagePuller puller = puller(budget);
        Recorder secondSteps = new Recorder();

        withFirstPullHeld(puller, first, () -> {
            PulledImage b = puller.pull("oci-layout:" + second.dir() + ":v1", options(tmp.resolve("b.ext4")),
                    secondSteps);
            assertThat(new Ext4Inspector(b.rootfsExt4()).stat("/data/second").raw()).contains("Size: " + 8 * MIB);
        });

        assertThat(secondSteps.steps).as("alone it fitted 12 MiB of tmpfs; beside the first's 8 MiB it did not")
                .contains("staging on disk: the image outgrew the tmpfs staging budget");
        assertThat(budget.used(StagingBudget.Place.TMPFS)).isZero();
        assertThat(budget.used(StagingBudget.Place.DISK)).isZero();
        assertThat(scratch).doesNotExist();
    }

    /** Runs {@code during} while a pull of {@code first} holds its staged tree (stopped before its ext4 is built). */
    private void withFirstPullHeld(ImagePuller puller, OciLayoutBuilder first, Runnable during) throws Exception {
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Recorder firstSteps = new Recorder() {
            @Override
            public void step(String description) {
                super.step(description);
                if (description.equals("building the ext4 root disk")) {
                    holding.countDown();
                    await(release);
                }
            }
        };
        CompletableFuture<PulledImage> a = CompletableFuture.supplyAsync(() -> puller.pull("oci-layout:"
                + first.dir() + ":v1", options(tmp.resolve("a.ext4")), firstSteps));
        try {
            assertThat(holding.await(60, TimeUnit.SECONDS)).as("the first pull staged its tree").isTrue();
            during.run();
        } finally {
            release.countDown();
        }
        assertThat(a.get(60, TimeUnit.SECONDS).rootfsExt4()).as("the first pull finishes").exists();
    }

    @Test
    void removeLeftovers_removesTheTmpfsScratchAndStagingTreesOfAKilledDaemon() throws IOException {
        Files.createDirectories(scratch.resolve("staging-123/etc"));
        Files.writeString(scratch.resolve("staging-123/etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
        Files.createDirectories(work.resolve("staging-456/usr"));
        Files.createDirectories(work.resolve("unrelated"));

        puller(StagingBudget.unlimited()).removeLeftovers();

        assertThat(scratch).doesNotExist();
        assertThat(work.resolve("staging-456")).doesNotExist();
        assertThat(work.resolve("unrelated")).exists();
    }

    // --- helpers ---

    private ImagePuller puller(StagingBudget budget) {
        return new ImagePuller(new ContentStore(tmp.resolve("store")), work, scratch, budget, FlattenLimits.DEFAULT,
                TestAssets.runner(), Executables.fromEnvironment(), ImageSources.newHttpClient());
    }

    private PullOptions options(Path target) {
        return PullOptions.to(target).withHeadroom(8 * MIB).withDockerConfig(tmp.resolve("none.json"));
    }

    /** An image of one gzip layer holding {@code data/NAME}: {@code size} bytes of a repeated random KiB. */
    private OciLayoutBuilder compressibleImage(String name, long size) {
        byte[] kib = new byte[1024];
        new Random(name.hashCode()).nextBytes(kib);
        byte[] content = new byte[(int) size];
        for (int i = 0; i < content.length; i += kib.length) {
            System.arraycopy(kib, 0, content, i, kib.length);
        }
        OciLayoutBuilder b = new OciLayoutBuilder(tmp.resolve(name + "-oci"));
        OciLayoutBuilder.Blob layer = b.layer(new TarLayer().dir("data").file("data/" + name, content, 0644, 0, 0),
                TarLayer.Compression.GZIP);
        b.tag("v1", b.image("amd64", List.of(layer), List.of(), null, List.of()));
        return b;
    }

    /**
     * A gzip stream (concatenated members) of a tar holding {@code names}, each {@code size} zero bytes: each
     * header is its own member, and 64 MiB of zeros is compressed once and repeated, so GiBs cost milliseconds.
     */
    static byte[] zeroFilesGzip(List<String> names, long size) {
        byte[] zeros64 = gzip(new byte[(int) (64 * MIB)]);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            for (String name : names) {
                TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_NORMAL, true);
                e.setSize(size);
                e.setMode(0644);
                byte[] header = new byte[512];
                e.writeEntryHeader(header, org.apache.commons.compress.archivers.zip.ZipEncodingHelper
                        .getZipEncoding("UTF-8"), true);
                out.write(gzip(header));
                long left = size;
                for (; left >= 64 * MIB; left -= 64 * MIB) {
                    out.write(zeros64);
                }
                int pad = (int) ((512 - left % 512) % 512);
                out.write(gzip(new byte[(int) left + pad]));
            }
            out.write(gzip(new byte[1024])); // end of archive
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static byte[] gzip(byte[] data) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(buf, 64 * 1024)) {
            gz.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buf.toByteArray();
    }

    /** st_blocks × 512, from stat(1). */
    static long allocatedBytes(Path file) {
        String out = TestAssets.runner().run(dev.banger.host.Command.of("stat", "-c", "%b %B", file.toString()))
                .stdoutText().strip();
        String[] parts = out.split(" ");
        return Long.parseLong(parts[0]) * Long.parseLong(parts[1]);
    }

    private static long field(String debugfsStat, String name) {
        Matcher m = Pattern.compile("\\b" + name + ": (\\d+)").matcher(debugfsStat);
        assertThat(m.find()).as(name + " in " + debugfsStat).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static List<String> filesUnder(Path dir) {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static class Recorder implements PullListener {
        final List<String> steps = new CopyOnWriteArrayList<>();

        @Override
        public void step(String description) {
            steps.add(description);
        }

        @Override
        public void layer(LayerProgress progress) {
        }
    }
}
