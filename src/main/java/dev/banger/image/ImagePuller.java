package dev.banger.image;

import dev.banger.host.CommandRunner;
import dev.banger.host.Executables;
import dev.banger.image.layer.FlattenLimits;
import dev.banger.image.layer.LayerFlattener;
import dev.banger.image.layer.StagingBudget;
import dev.banger.image.layer.StagingSpaceException;
import dev.banger.image.layer.StagingTree;
import dev.banger.image.registry.BlobListener;
import dev.banger.image.registry.ContentStore;
import dev.banger.image.registry.Descriptor;
import dev.banger.image.registry.DockerCredentials;
import dev.banger.image.registry.ImageConfigs;
import dev.banger.image.registry.ImageSource;
import dev.banger.image.registry.ImageSources;
import dev.banger.image.registry.Platform;
import dev.banger.image.registry.ResolvedImage;
import dev.banger.image.rootfs.Ext4Builder;
import dev.banger.image.rootfs.RootfsFinalizer;
import dev.banger.util.Files2;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulls an image and builds its ext4 root disk: resolve the reference (registry, {@code oci-layout:} or
 * {@code docker-archive:}) to linux/amd64, fetch config and layers into the shared {@link ContentStore} (verified,
 * several layers at once, skipping blobs already there), flatten the layers in order into a private staging tree,
 * finalise it for banger's guests and build the disk with {@code mkfs.ext4 -d}. On any failure the staging tree
 * and the partial disk are removed; blobs already verified stay in the content store for the next pull.
 *
 * <p>Publishing under a name, and serialising pulls of the same name, is the caller's job ({@code ImageService}).
 * Safe for concurrent pulls. Must run as root (the layers' owners are recorded in the disk).
 */
public final class ImagePuller {

    private static final Logger LOG = LoggerFactory.getLogger(ImagePuller.class);
    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final String STAGING_PREFIX = "staging-";

    private final ContentStore store;
    private final Path workDir;
    private final Path fastScratch;
    private final StagingBudget budget;
    private final FlattenLimits defaultLimits;
    private final CommandRunner runner;
    private final Executables executables;
    private final HttpClient http;

    /**
     * @param store the blob store shared by all pulls
     * @param workDir where staging trees are made (on the same file system as the targets, ideally)
     * @param http from {@link ImageSources#newHttpClient()}, shared
     */
    public ImagePuller(ContentStore store, Path workDir, CommandRunner runner, Executables executables,
                       HttpClient http) {
        this(store, workDir, null, StagingBudget.unlimited(), FlattenLimits.DEFAULT, runner, executables, http);
    }

    /**
     * As above, staging on tmpfs when it fits. Creating files is where flattening spends its time, and on tmpfs it
     * is an order of magnitude cheaper than on a journalled disk.
     *
     * @param fastScratch a tmpfs directory such as /dev/shm/banger-HASH (made and removed as pulls need it), or
     *     null for none. A pull stages there when four times its compressed size fits both what is left of the
     *     budget's tmpfs share and a quarter of the tmpfs's free space; one that outgrows the share starts over on
     *     disk
     * @param budget the staging space all pulls through this puller share
     * @param defaultLimits the bounds of a pull whose options name none
     */
    public ImagePuller(ContentStore store, Path workDir, Path fastScratch, StagingBudget budget,
                       FlattenLimits defaultLimits, CommandRunner runner, Executables executables, HttpClient http) {
        this.store = store;
        this.workDir = workDir;
        this.fastScratch = fastScratch;
        this.budget = budget;
        this.defaultLimits = defaultLimits;
        this.runner = runner;
        this.executables = executables;
        this.http = http;
    }

    /**
     * Pulls {@code reference} into {@code options.rootfsTarget()}.
     *
     * @throws IllegalArgumentException when the reference is malformed or the target exists
     * @throws ImageException (or a subclass saying which stage failed) when the pull fails; nothing is left at the
     *     target or in the work directory then
     */
    public PulledImage pull(String reference, PullOptions options, PullListener listener) {
        Path target = options.rootfsTarget().toAbsolutePath();
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("cannot pull into " + target + ": it already exists");
        }
        DockerCredentials credentials = DockerCredentials.load(options.dockerConfig() != null
                ? options.dockerConfig() : DockerCredentials.defaultPath());
        ImageSource source = ImageSources.open(reference, http, credentials, options.insecure());
        String ref = source.reference();
        listener.step("resolving " + ref);
        ResolvedImage image = source.resolve();
        ImageConfig config = readConfig(source, image);
        FlattenLimits limits = options.limits() != null ? options.limits() : defaultLimits;

        Path partial = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".partial");
        List<Descriptor> layers = image.layers();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(options.parallelFetches(),
                layers.size())), r -> {
                    Thread t = new Thread(r, "image-fetch-" + THREADS.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        Staging staging = null;
        StagingBudget.Charge disk = null;
        boolean published = false;
        try {
            List<Future<Path>> fetches = new ArrayList<>();
            for (int i = 0; i < layers.size(); i++) {
                int index = i + 1;
                Descriptor layer = layers.get(i);
                fetches.add(pool.submit(() -> fetchLayer(source, layer, index, layers.size(), listener)));
            }
            staging = stage(image, fetches, limits, listener);
            listener.step("building the ext4 root disk");
            // The disk holds about what was staged; it counts against the disk budget until it is an image.
            long staged = staging.charge.bytes();
            if (staging.charge.place() == StagingBudget.Place.DISK) {
                staging.charge.add(staged);
            } else {
                disk = budget.open(StagingBudget.Place.DISK, partial.getParent());
                disk.add(staged);
            }
            long size = new Ext4Builder(runner, executables).build(staging.dir, partial, options.headroomBytes());
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            published = true;
            return new PulledImage(target, image.manifestDigest().toString(), ref, size, config);
        } catch (IOException e) {
            throw new ImageException(Files2.describe(e), e);
        } finally {
            pool.shutdownNow();
            try {
                pool.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (staging != null) {
                staging.close();
            }
            if (!published) {
                try {
                    Files.deleteIfExists(partial);
                } catch (IOException e) {
                    LOG.warn("cannot remove the partial image {}: {}", partial, Files2.describe(e));
                }
            }
            if (disk != null) {
                disk.close();
            }
        }
    }

    /**
     * The digest {@code reference} resolves to now (the manifest or index for a registry or OCI layout, the image ID
     * for a docker-archive), as {@link PulledImage#manifestDigest()} would record it; fetches no layer. A pull of a
     * reference already here compares this with the image's digest to tell "up to date" from "the tag moved".
     *
     * @throws IllegalArgumentException when the reference is malformed
     * @throws ImageException (or a subclass) when the source cannot be resolved
     */
    public String resolveDigest(String reference, PullOptions options) {
        DockerCredentials credentials = DockerCredentials.load(options.dockerConfig() != null
                ? options.dockerConfig() : DockerCredentials.defaultPath());
        return ImageSources.open(reference, http, credentials, options.insecure()).resolve().manifestDigest()
                .toString();
    }

    /**
     * Flattens the layers (in order, each once fetched) and finalises the tree, on tmpfs when the image looks small
     * enough there; when it outgrows the tmpfs share of the budget, the tmpfs tree is dropped and the layers are
     * applied again on disk.
     */
    private Staging stage(ResolvedImage image, List<Future<Path>> fetches, FlattenLimits limits,
                          PullListener listener) throws IOException {
        StagingBudget.Place place = choosePlace(image);
        while (true) {
            Staging staging = openStaging(place);
            try {
                flatten(staging, image, fetches, limits, listener);
                listener.step("finalising the root filesystem");
                RootfsFinalizer.finalizePulledRootfs(new StagingTree(staging.dir));
                return staging;
            } catch (StagingSpaceException e) {
                staging.close();
                if (e.place() != StagingBudget.Place.TMPFS) {
                    throw e;
                }
                LOG.info("staging on disk instead of tmpfs: {}", e.getMessage());
                listener.step("staging on disk: the image outgrew the tmpfs staging budget");
                place = StagingBudget.Place.DISK;
            } catch (IOException | RuntimeException e) {
                staging.close();
                throw e;
            }
        }
    }

    private void flatten(Staging staging, ResolvedImage image, List<Future<Path>> fetches, FlattenLimits limits,
                         PullListener listener) throws IOException {
        List<Descriptor> layers = image.layers();
        LayerFlattener flattener = new LayerFlattener(new StagingTree(staging.dir), limits, staging.charge, runner,
                executables);
        for (int i = 0; i < layers.size(); i++) {
            Path blob = await(fetches.get(i));
            listener.step("applying layer " + (i + 1) + "/" + layers.size());
            flattener.apply(blob, "layer " + (i + 1) + "/" + layers.size() + " (" + layers.get(i).digest() + ")");
        }
        flattener.finish();
    }

    private StagingBudget.Place choosePlace(ResolvedImage image) {
        if (fastScratch == null) {
            return StagingBudget.Place.DISK;
        }
        long estimate = image.layers().stream().mapToLong(Descriptor::size).sum() * 4;
        try {
            long free = Files.getFileStore(fastScratch.getParent()).getUsableSpace();
            if (estimate <= budget.available(StagingBudget.Place.TMPFS) && estimate <= free / 4) {
                return StagingBudget.Place.TMPFS;
            }
        } catch (IOException e) {
            LOG.warn("cannot use {} for staging, using {}: {}", fastScratch, workDir, Files2.describe(e));
        }
        return StagingBudget.Place.DISK;
    }

    /** A pull's staging tree and its charge against the budget. */
    private final class Staging implements AutoCloseable {
        final Path dir;
        final StagingBudget.Charge charge;
        private final boolean onTmpfs;

        Staging(Path dir, StagingBudget.Charge charge, boolean onTmpfs) {
            this.dir = dir;
            this.charge = charge;
            this.onTmpfs = onTmpfs;
        }

        /** Removes the tree, then gives its space back (and the shared tmpfs directory when it is empty). */
        @Override
        public void close() {
            try {
                Files2.deleteRecursively(dir);
            } catch (IOException | UncheckedIOException e) {
                LOG.warn("cannot remove the staging tree {}: {}", dir, e.toString());
            }
            charge.close();
            if (onTmpfs) {
                removeScratchIfEmpty();
            }
        }
    }

    private Staging openStaging(StagingBudget.Place place) throws IOException {
        boolean tmpfs = place == StagingBudget.Place.TMPFS;
        Path dir = stagingIn(tmpfs ? fastScratch : workDir);
        try {
            return new Staging(dir, budget.open(place, dir), tmpfs);
        } catch (RuntimeException e) {
            Files2.deleteRecursively(dir);
            throw e;
        }
    }

    /**
     * A private staging directory in {@code dir}, made when missing. A concurrent pull may remove {@code dir}
     * between the two steps (it removes the shared scratch directory when it is empty), hence the retry.
     */
    private static Path stagingIn(Path dir) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Files.createDirectories(dir);
            try {
                return Files.createTempDirectory(dir, STAGING_PREFIX);
            } catch (NoSuchFileException e) {
                if (attempt == 5) {
                    throw e;
                }
            }
        }
    }

    /** The shared tmpfs directory goes when its last staging tree does, so tmpfs keeps no directory per state dir. */
    private void removeScratchIfEmpty() {
        try {
            Files.deleteIfExists(fastScratch);
        } catch (DirectoryNotEmptyException inUse) {
            // another pull is staging there; the last one out removes it
        } catch (IOException e) {
            LOG.warn("cannot remove {}: {}", fastScratch, Files2.describe(e));
        }
    }

    /**
     * Removes what pulls of an earlier daemon left (one killed mid-pull): the tmpfs scratch directory and the
     * staging trees in the work dir. Only while no pull runs: at daemon start (the state-dir lock is held) and stop.
     */
    public void removeLeftovers() {
        try {
            if (fastScratch != null) {
                Files2.deleteRecursively(fastScratch);
            }
            if (Files.isDirectory(workDir, LinkOption.NOFOLLOW_LINKS)) {
                try (DirectoryStream<Path> trees = Files.newDirectoryStream(workDir, STAGING_PREFIX + "*")) {
                    for (Path tree : trees) {
                        Files2.deleteRecursively(tree);
                    }
                }
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("cannot remove staging left by an earlier daemon ({}, {}): {}", fastScratch, workDir,
                    e.toString());
        }
    }

    private ImageConfig readConfig(ImageSource source, ResolvedImage image) {
        Descriptor config = image.config();
        if (config.size() > 4 * 1024 * 1024) {
            throw new ImageException("the image config " + config.digest() + " is " + config.size()
                    + " bytes; refusing it");
        }
        try {
            ContentStore.Ingested got = source.fetch(config, store, BlobListener.NONE, "image config");
            byte[] body;
            try (InputStream in = Files.newInputStream(got.path(), LinkOption.NOFOLLOW_LINKS)) {
                body = in.readAllBytes();
            }
            return ImageConfigs.parse(body, Platform.LINUX_AMD64, "image config " + config.digest());
        } catch (IOException e) {
            throw new ImageException("cannot fetch the image config " + config.digest() + ": " + Files2.describe(e),
                    e);
        }
    }

    private Path fetchLayer(ImageSource source, Descriptor layer, int index, int count, PullListener listener)
            throws IOException {
        String digest = layer.digest().toString();
        ContentStore.Ingested got = source.fetch(layer, store, (done, total) -> listener.layer(
                new PullListener.LayerProgress(index, count, digest, done, total, PullListener.State.FETCHING)),
                "layer " + index + "/" + count);
        listener.layer(new PullListener.LayerProgress(index, count, digest, layer.size(), layer.size(),
                got.cached() ? PullListener.State.CACHED : PullListener.State.FETCHED));
        return got.path();
    }

    private static Path await(Future<Path> fetch) throws IOException {
        try {
            return fetch.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageException("pull interrupted", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new ImageException(String.valueOf(cause), cause);
        }
    }
}
