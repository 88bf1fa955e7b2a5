package dev.banger.image.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import com.sun.net.httpserver.HttpServer;
import dev.banger.api.BangerException;
import dev.banger.api.ErrorCode;
import dev.banger.api.Event;
import dev.banger.api.ImageExportRequest;
import dev.banger.api.ImageExportResult;
import dev.banger.api.ImageImportRequest;
import dev.banger.api.ImageRegisterRequest;
import dev.banger.api.ImageView;
import dev.banger.api.KernelView;
import dev.banger.config.BangerPaths;
import dev.banger.host.Command;
import dev.banger.image.ImageService;
import dev.banger.json.Json;
import dev.banger.kernel.KernelService;
import dev.banger.model.Kernel;
import dev.banger.model.KernelArtifacts;
import dev.banger.model.KernelFormat;
import dev.banger.model.KernelSource;
import dev.banger.rpc.Call;
import dev.banger.store.Database;
import dev.banger.store.ImageStore;
import dev.banger.store.KernelStore;
import dev.banger.store.VmStore;
import dev.banger.testkit.FakeKernel;
import dev.banger.testkit.RecordingCall;
import dev.banger.testkit.TestAssets;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Image bundles over a real store, real ext4 root disks and a real (fake-content) kernel: export, import from a
 * file and from a URL served on 127.0.0.1, and bundles tampered with every way a reader must refuse.
 */
class ImageBundlesTest {

    @TempDir
    Path tmp;

    private BangerPaths paths;
    private Database db;
    private ImageService images;
    private KernelService kernels;
    private ImageBundles bundles;
    private HttpServer server;

    @BeforeEach
    void setUp() throws IOException {
        paths = new BangerPaths(tmp.resolve("state"), tmp.resolve("config"), tmp.resolve("run"));
        Files.createDirectories(paths.imagesDir());
        Files.createDirectories(paths.kernelsDir());
        db = Database.openReadWrite(paths.database());
        images = new ImageService(paths, new ImageStore(db), new VmStore(db), TestAssets.runner(),
                Clock.systemUTC(), null);
        kernels = new KernelService(paths, new KernelStore(db), new VmStore(db), null, Clock.systemUTC());
        bundles = new ImageBundles(paths, images, kernels, Clock.systemUTC());
    }

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.stop(0);
        }
        db.close();
    }

    /** A 64 MiB ext4 with a little content: mostly holes, as real root disks are. */
    private Path rootfs(String name) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name + "-tree/etc"));
        Files.writeString(dir.resolve("hello"), "hello from " + name + "\n");
        Path file = tmp.resolve(name + ".ext4");
        TestAssets.runner().run(Command.of("mkfs.ext4", "-q", "-F", "-d", dir.getParent().toString(),
                file.toString(), "64M"));
        return file;
    }

    private ImageView registered(String name) throws IOException {
        return images.register(new ImageRegisterRequest(name, rootfs(name).toString()), Call.detached());
    }

    private Kernel kernel(String name) throws IOException {
        Path dir = Files.createDirectories(paths.kernelsDir().resolve(name));
        Path bz = FakeKernel.write(dir.resolve("vmlinuz"));
        Path elf = Files.write(dir.resolve("vmlinux"), FakeKernel.vmlinux(FakeKernel.BUILT_IN_VIRTIO));
        Path initramfs = Files.write(dir.resolve("modules.cpio.gz"), "initramfs part 1".getBytes());
        Kernel kernel = new Kernel(name, new KernelArtifacts(FakeKernel.VERSION, KernelFormat.BZIMAGE, bz, elf,
                initramfs, List.of("virtio_blk", "virtio_net"), new KernelSource(KernelSource.Kind.DEB,
                "linux-image-cloud-amd64 6.1")), false, Instant.now());
        new KernelStore(db).insert(kernel);
        new KernelStore(db).setDefault(name);
        return kernel;
    }

    private byte[] export(String image, boolean withKernel) {
        RecordingCall call = new RecordingCall();
        ImageExportResult result = bundles.export(new ImageExportRequest(image, withKernel, null), call);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        call.events().stream().filter(e -> e instanceof Event.Output).forEach(e -> out.writeBytes(
                ((Event.Output) e).data()));
        assertThat(out.size()).as("every byte reached the client").isEqualTo(result.bytes());
        return out.toByteArray();
    }

    private Path file(String name, byte[] content) throws IOException {
        return Files.write(tmp.resolve(name), content);
    }

    private ImageView importFrom(String source, String name) {
        return bundles.importBundle(new ImageImportRequest(source, name, false), new RecordingCall());
    }

    private static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> kernelShas(KernelArtifacts a) throws IOException {
        return List.of(sha256(a.kernel()), sha256(a.vmlinux()), sha256(a.modulesInitramfs()));
    }

    private static long allocatedBytes(Path file) {
        return Long.parseLong(TestAssets.runner().run(Command.of("stat", "-c", "%b", file.toString()))
                .stdoutText().strip()) * 512;
    }

    @Test
    void roundTrip_imageAndKernel_comeBackIdentical_andTheDiskStaysSparse() throws IOException {
        ImageView before = registered("tools");
        Kernel kernel = kernel("k1");
        String rootfsSha = sha256(Path.of(before.rootfsPath()));
        List<String> kernelShas = kernelShas(kernel.artifacts());
        Path bundle = file("tools.bundle", export("tools", true));
        assertThat(Files.size(bundle)).as("zstd: the disk's empty space costs nothing").isLessThan(4L << 20);
        images.delete("tools");
        kernels.delete("k1");

        RecordingCall call = new RecordingCall();
        ImageView after = bundles.importBundle(new ImageImportRequest(bundle.toString(), null, false), call);

        assertThat(after.name()).isEqualTo("tools");
        assertThat(after.source()).isEqualTo(before.source());
        assertThat(after.sizeBytes()).isEqualTo(before.sizeBytes());
        Path imported = Path.of(after.rootfsPath());
        assertThat(imported).isEqualTo(paths.imagesDir().resolve("tools/rootfs.ext4"));
        assertThat(sha256(imported)).isEqualTo(rootfsSha);
        assertThat(allocatedBytes(imported)).as("written sparse").isLessThan(Files.size(imported) / 4);
        KernelView k = kernels.show("k1");
        assertThat(k.version()).isEqualTo(FakeKernel.VERSION);
        assertThat(k.modules()).containsExactly("virtio_blk", "virtio_net");
        assertThat(k.source()).isEqualTo("deb linux-image-cloud-amd64 6.1");
        assertThat(k.isDefault()).as("the first kernel is the default").isTrue();
        KernelArtifacts back = new KernelStore(db).findByName("k1").orElseThrow().artifacts();
        assertThat(back.directory()).isEqualTo(paths.kernelsDir().resolve("k1"));
        assertThat(back.format()).isEqualTo(KernelFormat.BZIMAGE);
        assertThat(kernelShas(back)).as("kernel, vmlinux, initramfs").isEqualTo(kernelShas);
        assertThat(call.progressDetails()).contains("verified 4 files (sizes and sha256)");
        assertThat(names(paths.imagesDir())).containsExactly("tools");
    }

    @Test
    void import_underAnotherName_besideTheOriginal_andTheSameKernelIsReused() throws IOException {
        registered("tools");
        kernel("k1");
        Path bundle = file("tools.bundle", export("tools", true));
        RecordingCall call = new RecordingCall();

        ImageView copy = bundles.importBundle(new ImageImportRequest(bundle.toString(), "tools-copy", false), call);

        assertThat(copy.name()).isEqualTo("tools-copy");
        assertThat(images.list().images()).extracting(ImageView::name).containsExactly("tools", "tools-copy");
        assertThat(call.progressDetails()).contains("kernel 'k1' (" + FakeKernel.VERSION + ") is already here");
        assertThat(kernels.list().kernels()).hasSize(1);
    }

    @Test
    void import_ofANameThatExists_isRefused_andLeavesNothing() throws IOException {
        registered("tools");
        Path bundle = file("tools.bundle", export("tools", false));

        assertThatThrownBy(() -> importFrom(bundle.toString(), null)).isInstanceOfSatisfying(BangerException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.ALREADY_EXISTS))
                .hasMessage("an image named 'tools' already exists; import under another name (--name) or delete "
                        + "it first");
        assertThat(names(paths.imagesDir())).containsExactly("tools");
    }

    @Test
    void import_fromAUrl_servedOn127001_withProgress() throws IOException {
        registered("tools");
        byte[] bundle = export("tools", false);
        images.delete("tools");
        String url = serve("/bundles/tools.bundle", bundle, bundle.length);
        RecordingCall call = new RecordingCall();

        ImageView imported = bundles.importBundle(new ImageImportRequest(url, null, false), call);

        assertThat(imported.name()).isEqualTo("tools");
        assertThat(call.progressDetails()).contains("reading " + url + " (" + dev.banger.model.Sizes.formatBytes(
                bundle.length) + ")");
        assertThat(call.events()).anyMatch(e -> e instanceof Event.Progress p && p.total() == bundle.length
                && p.current() > 0);
    }

    @Test
    void import_fromAUrl_thatAnswers404_orCutsTheStream_isRefused_andLeavesNothing() throws IOException {
        registered("tools");
        byte[] bundle = export("tools", false);
        images.delete("tools");
        String base = serve("/ok", bundle, bundle.length);
        String prefix = base.substring(0, base.length() - "/ok".length());
        server.createContext("/cut", exchange -> {
            exchange.sendResponseHeaders(200, 0); // chunked: the server closes after half the bundle
            try (OutputStream body = exchange.getResponseBody()) {
                body.write(bundle, 0, bundle.length / 2);
            }
        });

        assertThatThrownBy(() -> importFrom(prefix + "/missing", null)).hasMessageEndingWith(
                "the server answered HTTP 404");
        assertThatThrownBy(() -> importFrom(prefix + "/cut", null)).isInstanceOf(BangerException.class)
                .hasMessageContaining("truncated");
        assertNothingLeft();
    }

    @Test
    void import_refusesPlainHttpToAHostThatIsNotLoopback_withoutInsecure() {
        assertThatThrownBy(() -> importFrom("http://192.0.2.1/x.bundle", null))
                .hasMessageStartingWith("refusing plain HTTP to 192.0.2.1: use https, or --insecure");
    }

    @Test
    void tampered_aFlippedByteInTheDisk_failsItsDigest_andNothingIsRegistered() throws IOException {
        byte[] bundle = exportAndForget();
        byte[] tampered = rewrite(bundle, entries -> {
            Entry rootfs = entries.get(0);
            byte[] data = rootfs.data.clone();
            data[data.length / 2] ^= 1;
            entries.set(0, new Entry(rootfs.name, data, rootfs.flag, null));
            return entries;
        });

        assertRefused(tampered, "rootfs.ext4 does not match its digest: its sha256 is ");
    }

    @Test
    void tampered_anEntryThatEscapes_orIsNotABundleFile_isRefused_andNothingIsWrittenOutside() throws IOException {
        byte[] bundle = exportAndForget();
        byte[] escape = rewrite(bundle, entries -> {
            entries.add(0, new Entry("../../escaped", "x".getBytes(), TarConstants.LF_NORMAL, null));
            return entries;
        });
        byte[] absolute = rewrite(bundle, entries -> {
            entries.add(0, new Entry(tmp.resolve("absolute").toString(), "x".getBytes(), TarConstants.LF_NORMAL,
                    null));
            return entries;
        });
        byte[] unknown = rewrite(bundle, entries -> {
            entries.add(0, new Entry("etc/passwd", "x".getBytes(), TarConstants.LF_NORMAL, null));
            return entries;
        });

        assertRefused(escape, "entry '../../escaped' would escape the bundle's directory; refusing the bundle");
        assertRefused(absolute, "would escape the bundle's directory");
        assertRefused(unknown, "entry 'etc/passwd' is not part of an image bundle");
        assertThat(tmp.resolve("state/escaped")).doesNotExist();
        assertThat(tmp.resolve("escaped")).doesNotExist();
        assertThat(tmp.resolve("absolute")).doesNotExist();
    }

    @Test
    void tampered_aSymlinkOrHardlinkInPlaceOfAFile_isRefused() throws IOException {
        byte[] bundle = exportAndForget();
        byte[] symlink = rewrite(bundle, entries -> {
            entries.set(0, new Entry("rootfs.ext4", new byte[0], TarConstants.LF_SYMLINK, "/etc/shadow"));
            return entries;
        });
        byte[] hardlink = rewrite(bundle, entries -> {
            entries.set(0, new Entry("rootfs.ext4", new byte[0], TarConstants.LF_LINK, "/etc/shadow"));
            return entries;
        });

        assertRefused(symlink, "entry 'rootfs.ext4' is not a regular file");
        assertRefused(hardlink, "entry 'rootfs.ext4' is not a regular file");
    }

    @Test
    void tampered_manifests_thatNameAnEscape_lieAboutASize_orMissAFile_areRefused() throws IOException {
        byte[] bundle = exportAndForget();

        assertRefused(editManifest(bundle, m -> new BundleManifest(m.format(), m.version(), m.createdAt(), m.image(),
                m.kernel(), List.of(new BundleManifest.FileEntry("../rootfs.ext4", m.files().get(0).size(),
                m.files().get(0).sha256())))), "manifest.json names file '../rootfs.ext4' would escape");
        assertRefused(rewrite(bundle, entries -> {
            Entry manifest = entries.get(entries.size() - 1);
            BundleManifest m = Json.read(manifest.data, BundleManifest.class);
            BundleManifest.FileEntry f = m.files().get(0);
            BundleManifest lie = new BundleManifest(m.format(), m.version(), m.createdAt(), m.image(), m.kernel(),
                    List.of(new BundleManifest.FileEntry(f.path(), f.size() + 1, f.sha256())));
            entries.set(entries.size() - 1, new Entry(manifest.name, Json.writeBytes(lie), manifest.flag, null));
            return entries;
        }), "rootfs.ext4 is 67108864 bytes; manifest.json says 67108865");
        assertRefused(rewrite(bundle, entries -> {
            entries.remove(0);
            return entries;
        }), "manifest.json lists 'rootfs.ext4', which the bundle does not hold");
        assertRefused(rewrite(bundle, entries -> {
            entries.add(new Entry("kernel/kernel", "late".getBytes(), TarConstants.LF_NORMAL, null));
            return entries;
        }), "entry 'kernel/kernel' follows manifest.json, which must be the bundle's last entry");
        assertRefused(rewrite(bundle, entries -> {
            entries.add(0, new Entry("kernel/vmlinux", "extra".getBytes(), TarConstants.LF_NORMAL, null));
            return entries;
        }), "entry 'kernel/vmlinux' is not listed in manifest.json");
    }

    @Test
    void truncated_anywhere_isRefused_andLeavesNothing() throws IOException {
        byte[] bundle = exportAndForget();
        for (int cut : new int[] {10, bundle.length / 3, bundle.length / 2, bundle.length - 600, bundle.length - 1}) {
            byte[] truncated = java.util.Arrays.copyOf(bundle, cut);
            assertThatThrownBy(() -> importFrom(file("cut.bundle", truncated).toString(), null))
                    .as("cut at %d of %d", cut, bundle.length).isInstanceOfSatisfying(BangerException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("truncated");
            assertNothingLeft();
        }
        assertThat(importFrom(file("whole.bundle", bundle).toString(), null).name()).as("the whole one imports")
                .isEqualTo("tools");
    }

    @Test
    void notABundle_isRefusedInOneLine() throws IOException {
        Path text = file("notes.txt", "hello\n".getBytes());

        assertThatThrownBy(() -> importFrom(text.toString(), null)).hasMessage("cannot import " + text
                + ": not an image bundle: it is not zstd-compressed (bundles are made by banger image export)");
        assertThatThrownBy(() -> importFrom("relative.bundle", null))
                .hasMessageContaining("must be an absolute path or an http(s) URL");
        assertNothingLeft();
    }

    // --- helpers ---

    private byte[] exportAndForget() throws IOException {
        registered("tools");
        byte[] bundle = export("tools", false);
        images.delete("tools");
        assertNothingLeft();
        return bundle;
    }

    private void assertRefused(byte[] bundle, String message) throws IOException {
        Path f = file("tampered.bundle", bundle);
        assertThatThrownBy(() -> importFrom(f.toString(), null)).isInstanceOf(BangerException.class)
                .hasMessageContaining(message);
        assertNothingLeft();
    }

    private void assertNothingLeft() throws IOException {
        assertThat(images.list().images()).isEmpty();
        assertThat(kernels.list().kernels()).isEmpty();
        assertThat(names(paths.imagesDir())).as("no staging left").isEmpty();
    }

    private static List<String> names(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private String serve(String path, byte[] body, long length) throws IOException {
        if (server == null) {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.start();
        }
        server.createContext(path, exchange -> {
            if (!exchange.getRequestURI().getPath().equals(path)) {
                exchange.sendResponseHeaders(404, -1);
                exchange.close();
                return;
            }
            exchange.sendResponseHeaders(200, length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.createContext("/missing", exchange -> {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
        });
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    private record Entry(String name, byte[] data, byte flag, String link) {
    }

    /** Decompresses a bundle, lets {@code edit} change its entries, and packs them again as they are. */
    private static byte[] rewrite(byte[] bundle, UnaryOperator<List<Entry>> edit) throws IOException {
        List<Entry> entries = new ArrayList<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new ZstdInputStream(new ByteArrayInputStream(
                bundle)))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                entries.add(new Entry(e.getName(), tar.readAllBytes(), e.getLinkFlag(), null));
            }
        }
        List<Entry> edited = edit.apply(entries);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new ZstdOutputStream(out))) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Entry entry : edited) {
                TarArchiveEntry te = new TarArchiveEntry(entry.name, entry.flag, true);
                if (entry.link != null) {
                    te.setLinkName(entry.link);
                }
                te.setSize(entry.flag == TarConstants.LF_NORMAL ? entry.data.length : 0);
                tar.putArchiveEntry(te);
                if (entry.flag == TarConstants.LF_NORMAL) {
                    tar.write(entry.data);
                }
                tar.closeArchiveEntry();
            }
        }
        return out.toByteArray();
    }

    private static byte[] editManifest(byte[] bundle, UnaryOperator<BundleManifest> edit) throws IOException {
        return rewrite(bundle, entries -> {
            Entry manifest = entries.get(entries.size() - 1);
            BundleManifest edited = edit.apply(Json.read(manifest.data, BundleManifest.class));
            entries.set(entries.size() - 1, new Entry(manifest.name, Json.writeBytes(edited), manifest.flag, null));
            return entries;
        });
    }
}
