package dev.banger.image.bundle;

import dev.banger.api.BangerException;
import dev.banger.api.ErrorCode;
import dev.banger.api.Event;
import dev.banger.api.ImageExportRequest;
import dev.banger.api.ImageExportResult;
import dev.banger.api.ImageImportRequest;
import dev.banger.api.ImageView;
import dev.banger.api.KernelView;
import dev.banger.config.BangerPaths;
import dev.banger.image.Ext4;
import dev.banger.image.ImageService;
import dev.banger.kernel.KernelService;
import dev.banger.model.Image;
import dev.banger.model.Kernel;
import dev.banger.model.KernelArtifacts;
import dev.banger.model.KernelFormat;
import dev.banger.model.KernelSource;
import dev.banger.model.Names;
import dev.banger.model.Sizes;
import dev.banger.rpc.Call;
import dev.banger.util.Files2;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code image export} and {@code image import}: images moved between machines as bundles ({@link BundleLayout})
 * instead of through a registry. Export streams the bundle to the client, which writes the file (the daemon runs
 * as root and creates nothing at a path the user names). Import reads a file or an http(s) URL into a private
 * directory beside the image store, verifies every size and digest ({@link BundleReader}), and only then
 * registers the image, and the kernel when the bundle has one; a refused bundle leaves nothing behind.
 */
public final class ImageBundles {

    private static final Logger log = LoggerFactory.getLogger(ImageBundles.class);
    private static final int CHUNK = 64 * 1024;
    private static final long UPDATE_NANOS = 100_000_000L;
    private static final String STAGING_PREFIX = ".import-";

    private final BangerPaths paths;
    private final ImageService images;
    private final KernelService kernels;
    private final HttpClient http;
    private final Clock clock;

    public ImageBundles(BangerPaths paths, ImageService images, KernelService kernels, Clock clock) {
        this.paths = paths;
        this.images = images;
        this.kernels = kernels;
        this.clock = clock;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(30)).build();
        removeLeftovers();
    }

    /** Streams {@code image export}'s bundle to the client as output events. */
    public ImageExportResult export(ImageExportRequest request, Call call) {
        Image image = images.get(Names.requireValid("image", request.name()));
        Kernel kernel = request.withKernel() ? kernels.resolve(request.kernel()) : null;
        Map<String, Path> files = new LinkedHashMap<>();
        files.put(BundleLayout.ROOTFS, image.rootfsPath());
        BundleManifest.KernelEntry kernelEntry = null;
        if (kernel != null) {
            KernelArtifacts a = kernel.artifacts();
            files.put(BundleLayout.KERNEL, a.kernel());
            if (a.vmlinux() != null) {
                files.put(BundleLayout.VMLINUX, a.vmlinux());
            }
            files.put(BundleLayout.KERNEL_INITRAMFS, a.modulesInitramfs());
            kernelEntry = new BundleManifest.KernelEntry(kernel.name(), a.version(), a.format().name(), a.modules(),
                    a.source().kind().name(), a.source().reference());
        }
        long content = 0;
        for (Path file : files.values()) {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                throw BangerException.failedPrecondition("cannot export '" + image.name() + "': " + file
                        + " is missing");
            }
            content += size(file);
        }
        BundleManifest.ImageEntry imageEntry = new BundleManifest.ImageEntry(image.name(), image.source(),
                image.digest(), size(image.rootfsPath()), image.env(), image.workingDir(), image.entrypoint(),
                image.cmd());
        long start = System.nanoTime();
        call.emit(Event.Progress.started("export", "exporting image '" + image.name() + "'"
                + (kernel == null ? "" : " with kernel '" + kernel.name() + "'") + " (" + Sizes.formatBytes(content)
                + ")"));
        OutputEvents out = new OutputEvents(call);
        long total = content;
        long[] before = {0, 0};
        Throttle throttle = new Throttle();
        try {
            BundleWriter.write(imageEntry, kernelEntry, files, out, clock.instant(), (path, done, size) -> {
                if (done == size) {
                    before[0] += size;
                }
                if (throttle.due()) {
                    call.emit(new Event.Progress("export", "running", "exporting " + path, elapsed(start),
                            before[0] + (done == size ? 0 : done), total));
                }
            });
        } catch (BundleException e) {
            throw BangerException.failedPrecondition("cannot export '" + image.name() + "': " + e.getMessage());
        } catch (IOException e) {
            if (call.cancelled()) {
                throw new BangerException(ErrorCode.CANCELLED, "the client went away during the export");
            }
            throw BangerException.failedPrecondition("cannot export '" + image.name() + "': " + Files2.describe(e));
        }
        if (call.cancelled()) {
            throw new BangerException(ErrorCode.CANCELLED, "the client went away during the export");
        }
        call.emit(Event.Progress.done("export", "exported image '" + image.name() + "': "
                + Sizes.formatBytes(out.count) + " bundle", elapsed(start)));
        log.info("exported image {} ({} bytes{})", image.name(), out.count, kernel == null ? ""
                : ", kernel " + kernel.name());
        return new ImageExportResult(image.name(), kernel == null ? null : kernel.name(), out.count, content);
    }

    /**
     * Reads, verifies and registers a bundle. The image takes the bundle's name unless {@code request.name()} is
     * given; a bundled kernel is registered under its own name, unless a kernel of that name and version is
     * already here (then it is used as is; another version of that name refuses the import).
     */
    public ImageView importBundle(ImageImportRequest request, Call call) {
        if (request.source() == null || request.source().isBlank()) {
            throw BangerException.invalidArgument("name a bundle file or an http(s) URL to import");
        }
        if (request.name() != null) {
            Names.requireValid("image", request.name());
            requireFreeImageName(request.name());
        }
        long start = System.nanoTime();
        Path staging;
        try {
            Files.createDirectories(paths.imagesDir());
            staging = Files.createTempDirectory(paths.imagesDir(), STAGING_PREFIX);
        } catch (IOException e) {
            throw BangerException.failedPrecondition("cannot make a staging directory under " + paths.imagesDir()
                    + ": " + Files2.describe(e));
        }
        try {
            BundleReader.Verified bundle;
            try (Opened opened = open(request)) {
                call.onCancel(opened::closeQuietly);
                call.emit(Event.Progress.started("import", "reading " + request.source()
                        + (opened.size > 0 ? " (" + Sizes.formatBytes(opened.size) + ")" : "")));
                bundle = BundleReader.read(new Counting(opened.stream, opened.size, call, start), staging);
            } catch (BundleException e) {
                if (call.cancelled()) {
                    throw new BangerException(ErrorCode.CANCELLED, "the client went away during the import");
                }
                throw BangerException.invalidArgument("cannot import " + request.source() + ": " + e.getMessage());
            } catch (IOException e) {
                if (call.cancelled()) {
                    throw new BangerException(ErrorCode.CANCELLED, "the client went away during the import");
                }
                throw BangerException.failedPrecondition("cannot import " + request.source() + ": "
                        + Files2.describe(e));
            }
            BundleManifest manifest = bundle.manifest();
            call.emit(Event.Progress.done("import", "verified " + manifest.files().size() + " files (sizes and "
                    + "sha256)", elapsed(start)));
            Path rootfs = bundle.file(BundleLayout.ROOTFS);
            try {
                if (!Ext4.isExtFilesystem(rootfs)) {
                    throw BangerException.invalidArgument("cannot import " + request.source() + ": its "
                            + BundleLayout.ROOTFS + " is not an ext4 file system");
                }
            } catch (IOException e) {
                throw BangerException.failedPrecondition("cannot read " + rootfs + ": " + Files2.describe(e));
            }
            return register(request, bundle, call);
        } finally {
            try {
                Files2.deleteRecursively(staging);
            } catch (IOException e) {
                log.warn("could not remove {}: {}", staging, e.toString());
            }
        }
    }

    private ImageView register(ImageImportRequest request, BundleReader.Verified bundle, Call call) {
        BundleManifest manifest = bundle.manifest();
        BundleManifest.ImageEntry entry = manifest.image();
        String name = request.name() != null ? request.name() : entry.name();
        requireFreeImageName(name);
        BundleManifest.KernelEntry kernel = manifest.kernel();
        boolean newKernel = false;
        if (kernel != null) {
            Optional<KernelView> have = kernels.list().kernels().stream().filter(k -> k.name().equals(kernel.name()))
                    .findFirst();
            if (have.isPresent() && !have.get().version().equals(kernel.version())) {
                throw BangerException.alreadyExists("the bundle's kernel '" + kernel.name() + "' is "
                        + kernel.version() + ", but kernel '" + kernel.name() + "' here is " + have.get().version()
                        + "; delete it first (banger kernel delete " + kernel.name() + ") to import this bundle");
            }
            newKernel = have.isEmpty();
        }
        Image record = new Image(name, entry.source(), entry.digest(), bundle.file(BundleLayout.ROOTFS),
                entry.sizeBytes(), entry.env() == null ? Map.of() : entry.env(), entry.workingDir(),
                entry.entrypoint() == null ? List.of() : entry.entrypoint(),
                entry.cmd() == null ? List.of() : entry.cmd(), clock.instant());
        ImageView view = images.publishImported(name, bundle.file(BundleLayout.ROOTFS), record);
        if (kernel != null && newKernel) {
            Path kernelFile = bundle.file(BundleLayout.KERNEL);
            KernelArtifacts staged = new KernelArtifacts(kernel.version(), KernelFormat.valueOf(kernel.format()),
                    kernelFile, bundle.file(BundleLayout.VMLINUX), bundle.file(BundleLayout.KERNEL_INITRAMFS),
                    kernel.modules(), new KernelSource(KernelSource.Kind.valueOf(kernel.sourceKind()),
                    kernel.sourceReference()));
            try {
                kernels.adopt(kernel.name(), staged, call);
            } catch (RuntimeException e) {
                images.delete(name);
                throw e;
            }
        } else if (kernel != null) {
            call.emit(Event.Progress.done("kernel", "kernel '" + kernel.name() + "' (" + kernel.version()
                    + ") is already here", 0));
        }
        log.info("imported image {} from {} ({})", name, request.source(), entry.source());
        return view;
    }

    private void requireFreeImageName(String name) {
        if (images.exists(name)) {
            throw BangerException.alreadyExists("an image named '" + name + "' already exists; import under "
                    + "another name (--name) or delete it first");
        }
    }

    /** A bundle's byte stream and its size when known (else -1). */
    private record Opened(InputStream stream, long size) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            stream.close();
        }

        void closeQuietly() {
            try {
                stream.close();
            } catch (IOException e) {
                log.debug("closing a cancelled import: {}", e.toString());
            }
        }
    }

    private Opened open(ImageImportRequest request) throws IOException {
        String source = request.source();
        if (source.startsWith("http://") || source.startsWith("https://")) {
            return openUrl(source, request.insecure());
        }
        Path file = Path.of(source);
        if (!file.isAbsolute()) {
            throw BangerException.invalidArgument("the bundle must be an absolute path or an http(s) URL, not '"
                    + source + "'");
        }
        if (!Files.isRegularFile(file)) {
            throw BangerException.invalidArgument(source + ": no such file");
        }
        return new Opened(Files.newInputStream(file), Files.size(file));
    }

    private Opened openUrl(String url, boolean insecure) throws IOException {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw BangerException.invalidArgument("not a valid URL: " + url);
        }
        if (uri.getHost() == null) {
            throw BangerException.invalidArgument("not a valid URL (no host): " + url);
        }
        if ("http".equals(uri.getScheme()) && !insecure && !InetAddress.getByName(uri.getHost())
                .isLoopbackAddress()) {
            throw BangerException.invalidArgument("refusing plain HTTP to " + uri.getHost() + ": use https, or "
                    + "--insecure (the bundle's digests are checked either way, but its manifest travels with it)");
        }
        HttpResponse<InputStream> response;
        try {
            response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(5)).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BangerException(ErrorCode.CANCELLED, "interrupted while fetching " + url);
        }
        if (response.statusCode() != 200) {
            response.body().close();
            throw BangerException.failedPrecondition("cannot import " + url + ": the server answered HTTP "
                    + response.statusCode());
        }
        long length = response.headers().firstValueAsLong("Content-Length").orElse(-1);
        return new Opened(response.body(), length);
    }

    /** Leftovers of imports a daemon crash interrupted; none is in flight while the daemon starts. */
    private void removeLeftovers() {
        if (!Files.isDirectory(paths.imagesDir())) {
            return;
        }
        try (Stream<Path> entries = Files.list(paths.imagesDir())) {
            for (Path p : entries.filter(p -> p.getFileName().toString().startsWith(STAGING_PREFIX)).toList()) {
                Files2.deleteRecursively(p);
            }
        } catch (IOException e) {
            log.warn("could not remove interrupted imports under {}: {}", paths.imagesDir(), e.toString());
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw BangerException.failedPrecondition("cannot read " + file + ": " + Files2.describe(e));
        }
    }

    private static long elapsed(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static final class Throttle {
        private long last;

        boolean due() {
            long now = System.nanoTime();
            if (last == 0 || now - last >= UPDATE_NANOS) {
                last = now;
                return true;
            }
            return false;
        }
    }

    /** The bundle's bytes as output events, in chunks; counts them. */
    private static final class OutputEvents extends OutputStream {
        private final Call call;
        private final byte[] buf = new byte[CHUNK];
        private int used;
        long count;

        OutputEvents(Call call) {
            this.call = call;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (call.cancelled()) {
                throw new IOException("the client went away");
            }
            while (len > 0) {
                int n = Math.min(len, buf.length - used);
                System.arraycopy(b, off, buf, used, n);
                used += n;
                off += n;
                len -= n;
                if (used == buf.length) {
                    flush();
                }
            }
        }

        @Override
        public void flush() {
            if (used > 0) {
                call.emit(new Event.Output("stdout", Arrays.copyOf(buf, used)));
                count += used;
                used = 0;
            }
        }

        @Override
        public void close() {
            flush();
        }
    }

    /** Counts the bundle's bytes for progress (throttled; only when the total is known). */
    private static final class Counting extends FilterInputStream {
        private final long total;
        private final Call call;
        private final long start;
        private final Throttle throttle = new Throttle();
        private long count;

        Counting(InputStream in, long total, Call call, long start) {
            super(in);
            this.total = total;
            this.call = call;
            this.start = start;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                advance(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                advance(n);
            }
            return n;
        }

        private void advance(long n) {
            count += n;
            if (total > 0 && throttle.due()) {
                call.emit(new Event.Progress("import", "running", "reading the bundle", elapsed(start), count,
                        total));
            }
        }
    }
}
