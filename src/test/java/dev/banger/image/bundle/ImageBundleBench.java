package dev.banger.image.bundle;

import dev.banger.api.Event;
import dev.banger.api.ImageExportRequest;
import dev.banger.api.ImageImportRequest;
import dev.banger.api.ImageRegisterRequest;
import dev.banger.config.BangerPaths;
import dev.banger.host.Command;
import dev.banger.image.ImageService;
import dev.banger.kernel.KernelService;
import dev.banger.rpc.Call;
import dev.banger.rpc.Input;
import dev.banger.store.Database;
import dev.banger.store.ImageStore;
import dev.banger.store.KernelStore;
import dev.banger.store.VmStore;
import dev.banger.testkit.TestAssets;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark: {@code image export} and {@code image import} of a real root disk (a debootstrap minbase tree from the
 * test cache, as {@code mkfs.ext4 -d} with 1 GiB of headroom, the way pulls build it), through the services, the
 * export's bytes written to a file as the CLI does; next to {@code zstd -3} and {@code sha256sum} of the same disk.
 * Median of N runs. Needs root (the tree's owners), mkfs.ext4, zstd. Usage: bench/image-bundle.sh [RUNS]
 */
public final class ImageBundleBench {

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Path work = Files.createTempDirectory(Path.of("/var/tmp"), "banger-bundle-bench-");
        try {
            Path layer = TestAssets.debianMinbaseLayer("bookworm", "http://deb.debian.org/debian");
            Path tree = Files.createDirectories(work.resolve("tree"));
            TestAssets.runner().run(Command.of("tar", "--numeric-owner", "-xzf", layer.toString(), "-C",
                    tree.toString()).withTimeout(Duration.ofMinutes(10)));
            Path disk = work.resolve("debian.ext4");
            TestAssets.runner().run(Command.of("mkfs.ext4", "-q", "-F", "-b", "4096", "-d", tree.toString(),
                    disk.toString(), "1500M").withTimeout(Duration.ofMinutes(10)));
            TestAssets.deleteTree(tree);
            BangerPaths paths = new BangerPaths(work.resolve("state"), work.resolve("config"), work.resolve("run"));
            Files.createDirectories(paths.imagesDir());
            try (Database db = Database.openReadWrite(paths.database())) {
                ImageService images = new ImageService(paths, new ImageStore(db), new VmStore(db), TestAssets.runner(),
                        Clock.systemUTC(), null);
                KernelService kernels = new KernelService(paths, new KernelStore(db), new VmStore(db), null,
                        Clock.systemUTC());
                ImageBundles bundles = new ImageBundles(paths, images, kernels, Clock.systemUTC());
                images.register(new ImageRegisterRequest("debian", disk.toString()), Call.detached());
                List<Double> export = new ArrayList<>();
                List<Double> imports = new ArrayList<>();
                List<Double> zstd = new ArrayList<>();
                List<Double> sha = new ArrayList<>();
                Path bundle = work.resolve("debian.bundle");
                for (int i = 0; i < runs; i++) {
                    long t0 = System.nanoTime();
                    try (OutputStream out = Files.newOutputStream(bundle)) {
                        bundles.export(new ImageExportRequest("debian", false, null), new FileCall(out));
                    }
                    export.add(seconds(t0));
                    t0 = System.nanoTime();
                    bundles.importBundle(new ImageImportRequest(bundle.toString(), "copy", false), Call.detached());
                    imports.add(seconds(t0));
                    images.delete("copy");
                    t0 = System.nanoTime();
                    TestAssets.runner().run(Command.of("zstd", "-q", "-f", "-3", disk.toString(), "-o",
                            work.resolve("disk.zst").toString()).withTimeout(Duration.ofMinutes(10)));
                    zstd.add(seconds(t0));
                    t0 = System.nanoTime();
                    TestAssets.runner().run(Command.of("sha256sum", disk.toString()).withTimeout(Duration.ofMinutes(10)));
                    sha.add(seconds(t0));
                }
                long used = Long.parseLong(TestAssets.runner().run(Command.of("stat", "-c", "%b",
                        disk.toString())).stdoutText().strip()) * 512;
                System.out.printf(Locale.ROOT, "disk %d MiB (%d MiB allocated), bundle %.1f MiB; medians of %d:%n",
                        Files.size(disk) >> 20, used >> 20, Files.size(bundle) / 1048576.0, runs);
                System.out.printf(Locale.ROOT, "export %.2f s, import (read, verify, publish) %.2f s; "
                        + "zstd -3 of the disk %.2f s, sha256sum %.2f s%n", median(export), median(imports),
                        median(zstd), median(sha));
            }
        } finally {
            TestAssets.deleteTree(work);
        }
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        return s.get(s.size() / 2);
    }

    /** The export's client: output events into a file. */
    private record FileCall(OutputStream out) implements Call {
        @Override
        public void emit(Event event) {
            if (event instanceof Event.Output o) {
                try {
                    out.write(o.data());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }

        @Override
        public Input nextInput(long timeout, TimeUnit unit) {
            return null;
        }

        @Override
        public boolean cancelled() {
            return false;
        }

        @Override
        public void onCancel(Runnable action) {
        }
    }
}
