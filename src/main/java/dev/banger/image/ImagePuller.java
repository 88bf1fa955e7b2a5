package dev.banger.image;

import dev.banger.host.CommandRunner;
import dev.banger.host.Executables;
import dev.banger.image.layer.FlattenLimits;
import dev.banger.image.layer.LayerFlattener;
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

    private final ContentStore store;
    private final Path workDir;
    private final Path fastScratch;
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
        this(store, workDir, null, runner, executables, http);
    }

    /**
     * As above, staging small images in {@code fastScratch} (a tmpfs such as /dev/shm/banger, or null for none).
     * Creating files is where flattening spends its time, and on tmpfs it is an order of magnitude cheaper than on
     * a journalled disk; an image is staged there only when four times its compressed size fits in a quarter of
     * the scratch's free space, and its flattened size is then capped at half that free space.
     */
    public ImagePuller(ContentStore store, Path workDir, Path fastScratch, CommandRunner runner,
                       Executables executables, HttpClient http) {
        this.store = store;
        this.workDir = workDir;
        this.fastScratch = fastScratch;
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

        Path staging = null;
        Path partial = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".partial");
        List<Descriptor> layers = image.layers();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(options.parallelFetches(),
                layers.size())), r -> {
                    Thread t = new Thread(r, "image-fetch-" + THREADS.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        boolean published = false;
        try {
            Scratch scratch = chooseScratch(image, options.limits());
            staging = scratch.staging();
            LayerFlattener flattener = new LayerFlattener(new StagingTree(staging), scratch.limits(), runner,
                    executables);
            List<Future<Path>> fetches = new ArrayList<>();
            for (int i = 0; i < layers.size(); i++) {
                int index = i + 1;
                Descriptor layer = layers.get(i);
                fetches.add(pool.submit(() -> fetchLayer(source, layer, index, layers.size(), listener)));
            }
            for (int i = 0; i < layers.size(); i++) {
                Path blob = await(fetches.get(i));
                listener.step("applying layer " + (i + 1) + "/" + layers.size());
                flattener.apply(blob, "layer " + (i + 1) + "/" + layers.size() + " (" + layers.get(i).digest()
                        + ")");
            }
            flattener.finish();
            listener.step("finalising the root filesystem");
            RootfsFinalizer.finalizePulledRootfs(new StagingTree(staging));
            listener.step("building the ext4 root disk");
            long size = new Ext4Builder(runner, executables).build(staging, partial, options.headroomBytes());
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
            cleanUp(staging, published ? null : partial);
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

    /** A fresh staging directory and the limits that fit where it is. */
    private record Scratch(Path staging, FlattenLimits limits) {
    }

    private Scratch chooseScratch(ResolvedImage image, FlattenLimits limits) throws IOException {
        if (fastScratch != null) {
            long compressed = image.layers().stream().mapToLong(Descriptor::size).sum();
            try {
                long free = Files.getFileStore(fastScratch.getParent()).getUsableSpace();
                if (compressed * 4 <= free / 4) {
                    return new Scratch(stagingIn(fastScratch), new FlattenLimits(Math.min(limits.maxBytes(),
                            free / 2), limits.maxEntries()));
                }
            } catch (IOException e) {
                LOG.warn("cannot use {} for staging, using {}: {}", fastScratch, workDir, Files2.describe(e));
            }
        }
        return new Scratch(stagingIn(workDir), limits);
    }

    /**
     * A private staging directory in {@code dir}, made when missing. A concurrent pull's {@link #cleanUp} may remove
     * {@code dir} between the two steps (it removes the shared scratch directory when it is empty), hence the retry.
     */
    private static Path stagingIn(Path dir) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Files.createDirectories(dir);
            try {
                return Files.createTempDirectory(dir, "staging-");
            } catch (NoSuchFileException e) {
                if (attempt == 5) {
                    throw e;
                }
            }
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

    private void cleanUp(Path staging, Path partial) {
        try {
            if (staging != null) {
                Files2.deleteRecursively(staging);
            }
            if (partial != null) {
                Files.deleteIfExists(partial);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("cannot remove the partial image {} / {}: {}", staging, partial, e.toString());
        }
        if (fastScratch != null) {
            // Shared by concurrent pulls: removed only when empty, so tmpfs keeps no directory per state dir.
            try {
                Files.deleteIfExists(fastScratch);
            } catch (DirectoryNotEmptyException inUse) {
                // another pull is staging there; the last one out removes it
            } catch (IOException e) {
                LOG.warn("cannot remove {}: {}", fastScratch, Files2.describe(e));
            }
        }
    }
}
