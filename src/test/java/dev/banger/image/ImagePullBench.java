package dev.banger.image;

import dev.banger.host.Command;
import dev.banger.testkit.OciLayoutBuilder;
import dev.banger.testkit.RegistryFixture;
import dev.banger.testkit.TarLayer;
import dev.banger.testkit.TestAssets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Benchmark (not a test; run by bench/image-pull.sh): pull + flatten + ext4 build of a ~100 MB image from a local
 * registry against {@code skopeo copy docker://… oci:DIR} of the same image, median of 3; then a second pull of an
 * image sharing the base layer, counting the bytes downloaded.
 */
public final class ImagePullBench {

    private ImagePullBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("debian")) {
            debian(args.length > 1 ? Integer.parseInt(args[1]) : 3);
            return;
        }
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Path tmp = Files.createTempDirectory("banger-bench-");
        try (RegistryFixture registry = RegistryFixture.start()) {
            OciLayoutBuilder b = new OciLayoutBuilder(tmp.resolve("layout"));
            TarLayer baseTar = new TarLayer();
            long baseBytes = baseTar.hostTrees(List.of(Path.of("/usr/lib/python3"), Path.of("/usr/share/perl"),
                    Path.of("/usr/share/doc")), 75L << 20);
            TarLayer topTar = new TarLayer();
            long topBytes = topTar.hostTrees(List.of(Path.of("/usr/share/locale")), 25L << 20);
            OciLayoutBuilder.Blob base = b.layer(baseTar, TarLayer.Compression.GZIP);
            OciLayoutBuilder.Blob top = b.layer(topTar, TarLayer.Compression.GZIP);
            OciLayoutBuilder.Blob extra = b.layer(new TarLayer().file("etc/derived", "x\n"),
                    TarLayer.Compression.GZIP);
            b.tag("v1", b.image("amd64", List.of(base, top), List.of(), null, List.of()));
            b.tag("derived", b.image("amd64", List.of(base, extra), List.of(), null, List.of()));
            registry.push(b.dir(), "v1", "bench/img");
            registry.push(b.dir(), "derived", "bench/derived");
            System.out.printf("image: %.1f MB of files (%.1f MB base + %.1f MB top), %.1f MB compressed%n",
                    (baseBytes + topBytes) / 1e6, baseBytes / 1e6, topBytes / 1e6, (base.size() + top.size()) / 1e6);

            List<Double> ours = new ArrayList<>();
            List<Double> oursTmpfs = new ArrayList<>();
            List<Double> skopeo = new ArrayList<>();
            List<Double> tar = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                Path dir = tmp.resolve("run" + i);
                PullTestSupport s = new PullTestSupport(dir);
                PullOptions options = PullOptions.to(dir.resolve("img.ext4"))
                        .withDockerConfig(dir.resolve("none.json"));
                long t0 = System.nanoTime();
                PullListener steps = new PullListener() {
                    @Override
                    public void step(String d) {
                        if (System.getenv("BENCH_STEPS") != null) {
                            System.out.printf("  %6.2f s  %s%n", (System.nanoTime() - t0) / 1e9, d);
                        }
                    }
                };
                s.puller.pull(registry.host() + "/bench/img:v1", options, steps);
                ours.add((System.nanoTime() - t0) / 1e9);
                long t1 = System.nanoTime();
                TestAssets.runner().run(Command.of("skopeo", "--insecure-policy", "copy", "--quiet",
                        "--src-tls-verify=false", "docker://" + registry.host() + "/bench/img:v1",
                        "oci:" + dir.resolve("skopeo-oci") + ":v1").withTimeout(Duration.ofMinutes(10)));
                skopeo.add((System.nanoTime() - t1) / 1e9);
                Path shm = Path.of("/dev/shm/banger-bench-" + i);
                dev.banger.image.ImagePuller fast = new dev.banger.image.ImagePuller(
                        new dev.banger.image.registry.ContentStore(dir.resolve("store2")), dir.resolve("work2"), shm,
                        dev.banger.image.layer.StagingBudget.unlimited(), dev.banger.image.layer.FlattenLimits.DEFAULT,
                        TestAssets.runner(), dev.banger.host.Executables.fromEnvironment(), PullTestSupport.HTTP);
                long t3 = System.nanoTime();
                fast.pull(registry.host() + "/bench/img:v1", PullOptions.to(dir.resolve("img2.ext4"))
                        .withDockerConfig(dir.resolve("none.json")), PullListener.NONE);
                oursTmpfs.add((System.nanoTime() - t3) / 1e9);
                Path x = Files.createDirectories(dir.resolve("tar-x"));
                long t4 = System.nanoTime();
                for (OciLayoutBuilder.Blob layer : List.of(base, top)) {
                    TestAssets.runner().run("tar", "-xzf", b.dir().resolve("blobs/sha256")
                            .resolve(layer.digest().substring(7)).toString(), "-C", x.toString());
                }
                tar.add((System.nanoTime() - t4) / 1e9);
                TestAssets.deleteTree(shm);
                TestAssets.deleteTree(dir);
            }
            double oursMedian = median(ours);
            double skopeoMedian = median(skopeo);
            System.out.printf("banger pull+flatten+ext4: median %.2f s of %s%n", oursMedian, ours);
            System.out.printf("skopeo copy docker:// -> oci: median %.2f s of %s%n", skopeoMedian, skopeo);
            System.out.printf("ratio: %.2f%n", oursMedian / skopeoMedian);
            System.out.printf("banger with staging on tmpfs (/dev/shm): median %.2f s of %s, ratio %.2f%n",
                    median(oursTmpfs), oursTmpfs, median(oursTmpfs) / skopeoMedian);
            System.out.printf("for scale, GNU tar -xzf of the same two layers onto the same disk: median %.2f s of %s%n",
                    median(tar), tar);

            Path dir = tmp.resolve("shared");
            PullTestSupport s = new PullTestSupport(dir);
            s.puller.pull(registry.host() + "/bench/img:v1", PullOptions.to(dir.resolve("first.ext4"))
                    .withDockerConfig(dir.resolve("none.json")), PullListener.NONE);
            AtomicLong fetched = new AtomicLong();
            AtomicLong baseFetched = new AtomicLong();
            PullListener counter = new PullListener() {
                @Override
                public void layer(LayerProgress p) {
                    if (p.state() == State.FETCHED) {
                        fetched.addAndGet(p.bytesTotal());
                        if (p.digest().equals(base.digest())) {
                            baseFetched.addAndGet(p.bytesTotal());
                        }
                    }
                }
            };
            long t2 = System.nanoTime();
            s.puller.pull(registry.host() + "/bench/derived:derived", PullOptions.to(dir.resolve("second.ext4"))
                    .withDockerConfig(dir.resolve("none.json")), counter);
            System.out.printf("second pull sharing the base layer: %.2f s, %d layer bytes downloaded, %d of them"
                    + " base-layer bytes; registry log: base blob GETs for bench/derived = %d%n",
                    (System.nanoTime() - t2) / 1e9, fetched.get(), baseFetched.get(),
                    registry.blobGets("bench/derived", base.digest()));
        } finally {
            TestAssets.deleteTree(tmp);
        }
    }

    /**
     * The real image of {@link RealImageIT} (debootstrap minbase base layer + a top layer of special cases): banger's
     * pull + flatten + ext4 (staging on disk, as the daemon does for images too big for its tmpfs share, and on
     * tmpfs) against skopeo copy of the same image, each from a cold content store, median of {@code runs}; and the
     * median time of each stage of banger's pull.
     */
    private static void debian(int runs) throws Exception {
        Path tmp = Files.createTempDirectory("banger-bench-");
        try (RegistryFixture registry = RegistryFixture.start()) {
            Path layout = RealImageIT.RealImage.layout(tmp);
            registry.push(layout, "v1", "bench/debian");
            String ref = registry.host() + "/bench/debian:v1";
            long compressed = 0;
            try (java.util.stream.Stream<Path> blobs = Files.list(layout.resolve("blobs/sha256"))) {
                for (Path blob : (Iterable<Path>) blobs::iterator) {
                    compressed += Files.size(blob);
                }
            }
            System.out.printf("image: debootstrap minbase + top layer, %.1f MB compressed%n", compressed / 1e6);
            List<Double> onDisk = new ArrayList<>();
            List<Double> onTmpfs = new ArrayList<>();
            List<Double> skopeo = new ArrayList<>();
            java.util.Map<String, List<Double>> stages = new java.util.LinkedHashMap<>();
            for (int i = 0; i < runs; i++) {
                Path dir = Files.createDirectories(tmp.resolve("run" + i));
                long t1 = System.nanoTime();
                TestAssets.runner().run(Command.of("skopeo", "--insecure-policy", "copy", "--quiet",
                        "--src-tls-verify=false", "docker://" + ref, "oci:" + dir.resolve("skopeo-oci") + ":v1")
                        .withTimeout(Duration.ofMinutes(10)));
                skopeo.add((System.nanoTime() - t1) / 1e9);

                PullTestSupport s = new PullTestSupport(dir);
                List<String> names = new ArrayList<>();
                List<Long> times = new ArrayList<>();
                long t0 = System.nanoTime();
                PullListener steps = new PullListener() {
                    @Override
                    public void step(String d) {
                        names.add(d.replaceAll(" [0-9]+/[0-9]+$", "").replaceAll("resolving .*", "resolve+fetch"));
                        times.add(System.nanoTime());
                    }
                };
                s.puller.pull(ref, PullOptions.to(dir.resolve("img.ext4")).withDockerConfig(dir.resolve("n.json")),
                        steps);
                long end = System.nanoTime();
                onDisk.add((end - t0) / 1e9);
                times.add(end);
                java.util.Map<String, Double> run = new java.util.LinkedHashMap<>();
                for (int k = 0; k < names.size(); k++) {
                    run.merge(names.get(k), (times.get(k + 1) - times.get(k)) / 1e9, Double::sum);
                }
                run.forEach((k, v) -> stages.computeIfAbsent(k, x -> new ArrayList<>()).add(v));

                Path shm = Path.of("/dev/shm/banger-bench-" + i);
                ImagePuller fast = new ImagePuller(new dev.banger.image.registry.ContentStore(dir.resolve("store2")),
                        dir.resolve("work2"), shm,
                        dev.banger.image.layer.StagingBudget.unlimited(), dev.banger.image.layer.FlattenLimits.DEFAULT,
                        TestAssets.runner(), dev.banger.host.Executables.fromEnvironment(),
                        PullTestSupport.HTTP);
                long t3 = System.nanoTime();
                fast.pull(ref, PullOptions.to(dir.resolve("img2.ext4")).withDockerConfig(dir.resolve("n.json")),
                        PullListener.NONE);
                onTmpfs.add((System.nanoTime() - t3) / 1e9);
                TestAssets.deleteTree(shm);
                TestAssets.deleteTree(dir);
            }
            double skopeoMedian = median(skopeo);
            System.out.printf("skopeo copy docker:// -> oci:       median %.2f s of %s%n", skopeoMedian, skopeo);
            System.out.printf("banger pull+flatten+ext4 (disk):    median %.2f s of %s, ratio %.2f%n",
                    median(onDisk), onDisk, median(onDisk) / skopeoMedian);
            System.out.printf("banger pull+flatten+ext4 (tmpfs):   median %.2f s of %s, ratio %.2f%n",
                    median(onTmpfs), onTmpfs, median(onTmpfs) / skopeoMedian);
            System.out.println("banger stages (staging on disk), medians:");
            stages.forEach((k, v) -> System.out.printf("  %-32s %6.2f s%n", k, median(v)));
        } finally {
            TestAssets.deleteTree(tmp);
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
