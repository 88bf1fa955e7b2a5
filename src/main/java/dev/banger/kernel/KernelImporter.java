package dev.banger.kernel;

import dev.banger.model.KernelSource;
import dev.banger.model.KernelFormat;
import dev.banger.model.KernelArtifacts;
import dev.banger.host.Executables;
import dev.banger.host.CommandRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Turns a kernel from any source into {@link KernelArtifacts} in a directory of its own: the kernel image plus the
 * modules part of its initramfs. This is the whole API the kernel service needs; records and RPC live there.
 *
 * <p>Every method builds into a temporary sibling of {@code destDir} and renames it into place at the end, so
 * {@code destDir} either does not exist or holds a complete kernel; a failure leaves nothing behind.
 * {@code destDir} must not exist yet. Methods are safe to call concurrently for different destinations.
 */
public final class KernelImporter {

    /** File names inside a kernel directory. */
    static final String BZIMAGE_FILE = "vmlinuz";
    static final String ELF_FILE = "vmlinux";
    static final String MODULES_INITRAMFS_FILE = "modules.cpio.gz";

    /**
     * What a kernel needs built in to boot with no modules: the disk, the console and a virtio transport
     * (MMIO for microvm and Firecracker, PCI for q35), as {@code CONFIG_} option names.
     */
    static final List<List<String>> BUILT_IN_WITHOUT_MODULES = List.of(List.of("VIRTIO_BLK"),
            List.of("VIRTIO_CONSOLE"), List.of("VIRTIO_MMIO", "VIRTIO_PCI"));

    private final CommandRunner runner;
    private final Executables executables;
    private final List<String> wantedModules;
    private final KernelDownloader downloader;

    public KernelImporter(CommandRunner runner) {
        this(runner, Executables.fromEnvironment(), ModuleResolver.GUEST_MODULES, null);
    }

    KernelImporter(CommandRunner runner, Executables executables, List<String> wantedModules,
                   KernelDownloader downloader) {
        this.runner = runner;
        this.executables = executables;
        this.wantedModules = List.copyOf(wantedModules);
        this.downloader = downloader != null ? downloader : new AptKernelDownloader(runner, executables);
    }

    /** Imports a Debian {@code linux-image-*.deb} (kernel and modules from the package). */
    public KernelArtifacts importDeb(Path deb, Path destDir, ProgressListener listener) {
        return importDeb(deb, destDir, listener, KernelSource.Kind.DEB);
    }

    private KernelArtifacts importDeb(Path deb, Path destDir, ProgressListener listener, KernelSource.Kind kind) {
        requireAbsent(destDir);
        Path work = tempSibling(destDir, "unpack");
        try {
            listener.progress(KernelProgress.of(KernelProgress.Stage.EXTRACT, "unpacking " + deb.getFileName()));
            DebianKernelPackageReader reader = new DebianKernelPackageReader(runner, executables);
            DebianKernelPackage pkg = reader.read(deb, work);
            KernelImage image = new KernelImageInspector().inspect(pkg.kernel());
            KernelSource src = new KernelSource(kind, pkg.reference());
            return publish(pkg.kernel(), image.format(), pkg.version(), pkg.modulesDir(), src, destDir, listener);
        } finally {
            deleteQuietly(work);
        }
    }

    /**
     * Imports a bare kernel image.
     *
     * @param kernel a bzImage or ELF vmlinux
     * @param modulesDir the kernel's modules: a {@code lib/modules/<version>} directory, a {@code lib/modules}
     *     directory or a root containing {@code lib/modules/<version>}; null when the kernel has everything built
     *     in (then the initramfs carries no modules)
     */
    public KernelArtifacts importKernel(Path kernel, Path modulesDir, Path destDir, ProgressListener listener) {
        requireAbsent(destDir);
        listener.progress(KernelProgress.of(KernelProgress.Stage.EXTRACT, "inspecting " + kernel.getFileName()));
        KernelImage image = new KernelImageInspector().inspect(kernel);
        Path versionDir = modulesDir == null ? null : findVersionDir(modulesDir, image.version());
        String version;
        if (versionDir != null) {
            String dirVersion = versionDir.getFileName().toString();
            if (image.version().isPresent() && !image.version().get().equals(dirVersion)) {
                throw new KernelException("modules directory " + versionDir + " is for kernel " + dirVersion
                        + " but " + kernel + " is " + image.version().get());
            }
            version = dirVersion;
        } else {
            version = image.version().orElseThrow(() -> new KernelException("cannot tell the version of " + kernel
                    + ": it has no readable version string; give its modules directory (lib/modules/<version>)"));
        }
        KernelSource source = new KernelSource(KernelSource.Kind.FILE, kernel.toAbsolutePath().toString());
        return publish(kernel, image.format(), version, versionDir, source, destDir, listener);
    }

    /** Downloads Debian's current cloud kernel with apt and imports it. */
    public KernelArtifacts pullDebianCloud(Path destDir, ProgressListener listener) {
        return pull(newestDebianCloud(listener), destDir, listener);
    }

    /** The package of Debian's current cloud kernel, from apt's lists; downloads nothing. */
    public KernelPackage newestDebianCloud(ProgressListener listener) {
        return downloader.newest(AptKernelDownloader.DEBIAN_CLOUD, listener);
    }

    /** Downloads {@code pkg} and imports it. */
    public KernelArtifacts pull(KernelPackage pkg, Path destDir, ProgressListener listener) {
        requireAbsent(destDir);
        Path download = tempSibling(destDir, "download");
        try {
            Path deb = downloader.download(pkg, download, listener);
            return importDeb(deb, destDir, listener, KernelSource.Kind.APT);
        } finally {
            deleteQuietly(download);
        }
    }

    private KernelArtifacts publish(Path kernel, KernelFormat format, String version, Path modulesDir,
                                    KernelSource source, Path destDir, ProgressListener listener) {
        Path staging = tempSibling(destDir, "importing");
        try {
            String kernelName = format == KernelFormat.BZIMAGE ? BZIMAGE_FILE : ELF_FILE;
            Path vmlinux = null;
            String unpackProblem = null;
            if (format == KernelFormat.BZIMAGE) {
                vmlinux = staging.resolve(ELF_FILE);
                try {
                    VmlinuxExtractor.Payload payload = new VmlinuxExtractor().payload(kernel);
                    listener.progress(KernelProgress.of(KernelProgress.Stage.EXTRACT, "unpacking the "
                            + payload.compression().name().toLowerCase(Locale.ROOT) + " vmlinux from "
                            + kernel.getFileName() + " (for Firecracker)"));
                    new VmlinuxExtractor().extract(kernel, vmlinux);
                } catch (VmlinuxExtractor.UnsupportedPayloadException e) {
                    // QEMU boots the bzImage as it is; only Firecracker needs the ELF, and it says so at create.
                    unpackProblem = e.getMessage();
                    listener.progress(KernelProgress.of(KernelProgress.Stage.EXTRACT, "no vmlinux for Firecracker: "
                            + e.getMessage()));
                    vmlinux = null;
                }
            }
            List<KernelModule> modules = List.of();
            ModuleIndex index = null;
            if (modulesDir != null) {
                listener.progress(KernelProgress.of(KernelProgress.Stage.MODULES, "resolving kernel modules"));
                index = ModuleIndex.load(modulesDir, new ModuleDecompressor(runner));
                modules = new ModuleResolver().resolve(index, wantedModules);
            } else {
                requireBuiltInVirtio(kernel, format == KernelFormat.ELF ? kernel : vmlinux, unpackProblem);
            }
            listener.progress(KernelProgress.of(KernelProgress.Stage.INITRAMFS,
                    "building initramfs with " + modules.size() + " modules"));
            Files.copy(kernel, staging.resolve(kernelName), StandardCopyOption.COPY_ATTRIBUTES);
            new ModulesInitramfsBuilder().build(version, index, modules, staging.resolve(MODULES_INITRAMFS_FILE));
            Files.move(staging, destDir, StandardCopyOption.ATOMIC_MOVE);
            staging = null;
            List<String> names = new ArrayList<>();
            modules.forEach(m -> names.add(m.name()));
            KernelArtifacts artifacts = new KernelArtifacts(version, format, destDir.resolve(kernelName),
                    vmlinux == null ? null : destDir.resolve(ELF_FILE), destDir.resolve(MODULES_INITRAMFS_FILE),
                    names, source);
            listener.progress(KernelProgress.of(KernelProgress.Stage.DONE, "kernel " + version + " ready"));
            return artifacts;
        } catch (IOException e) {
            throw new KernelException("cannot store kernel in " + destDir + ": " + e.getMessage(), e);
        } finally {
            if (staging != null) {
                deleteQuietly(staging);
            }
        }
    }

    /**
     * A kernel imported without modules boots only if what banger needs is built in. Its embedded config
     * (CONFIG_IKCONFIG) is the one reliable witness; without it the import is refused rather than failing at
     * every boot with "root device /dev/vda did not appear".
     */
    private static void requireBuiltInVirtio(Path kernel, Path elf, String unpackProblem) {
        String fix = "; give its modules with --modules DIR (its lib/modules/<version>, whose modules.builtin "
                + "also tells banger what is built in)";
        if (elf == null) {
            throw new KernelException("cannot tell whether " + kernel + " has virtio built in (" + unpackProblem
                    + ")" + fix);
        }
        EmbeddedKernelConfig config = EmbeddedKernelConfig.of(elf).orElseThrow(() -> new KernelException(
                "cannot tell whether " + kernel + " has virtio block and console built in: it carries no embedded "
                        + "config (CONFIG_IKCONFIG)" + fix));
        List<String> missing = new ArrayList<>();
        for (List<String> anyOf : BUILT_IN_WITHOUT_MODULES) {
            if (anyOf.stream().noneMatch(config::builtIn)) {
                missing.add(String.join(" or ", anyOf.stream().map(o -> "CONFIG_" + o + "="
                        + config.options().getOrDefault(o, "n")).toList()));
            }
        }
        if (!missing.isEmpty()) {
            throw new KernelException(kernel + " is a modular kernel (" + String.join(", ", missing)
                    + ") and no modules were given, so it could not find its disk" + fix);
        }
    }

    /** Accepts {@code lib/modules/<v>}, {@code lib/modules} or a root above it; picks the image's version. */
    private static Path findVersionDir(Path dir, Optional<String> imageVersion) {
        if (!Files.isDirectory(dir)) {
            throw new KernelException("modules directory " + dir + " does not exist");
        }
        if (looksLikeVersionDir(dir)) {
            return dir.toAbsolutePath();
        }
        for (Path parent : List.of(dir.resolve("lib/modules"), dir.resolve("usr/lib/modules"), dir)) {
            if (!Files.isDirectory(parent)) {
                continue;
            }
            List<Path> candidates = new ArrayList<>();
            try (DirectoryStream<Path> children = Files.newDirectoryStream(parent, Files::isDirectory)) {
                children.forEach(c -> {
                    if (looksLikeVersionDir(c)) {
                        candidates.add(c);
                    }
                });
            } catch (IOException e) {
                throw new KernelException("cannot list " + parent + ": " + e.getMessage(), e);
            }
            if (imageVersion.isPresent()) {
                for (Path c : candidates) {
                    if (c.getFileName().toString().equals(imageVersion.get())) {
                        return c.toAbsolutePath();
                    }
                }
            }
            if (candidates.size() == 1) {
                return candidates.get(0).toAbsolutePath();
            }
            if (candidates.size() > 1) {
                throw new KernelException(parent + " holds modules for several kernels " + names(candidates)
                        + "; give the lib/modules/<version> directory of this kernel");
            }
        }
        throw new KernelException(dir + " is not a kernel modules directory (no modules.dep, modules.builtin or "
                + "kernel/ in it or in lib/modules/<version> below it)");
    }

    private static boolean looksLikeVersionDir(Path dir) {
        return Files.isRegularFile(dir.resolve(ModuleIndex.MODULES_DEP))
                || Files.isRegularFile(dir.resolve(ModuleIndex.MODULES_BUILTIN))
                || Files.isDirectory(dir.resolve("kernel"));
    }

    private static List<String> names(List<Path> dirs) {
        List<String> names = new ArrayList<>();
        dirs.forEach(d -> names.add(d.getFileName().toString()));
        names.sort(null);
        return names;
    }

    private static void requireAbsent(Path destDir) {
        if (Files.exists(destDir)) {
            throw new KernelException("kernel directory " + destDir + " already exists");
        }
        Path parent = destDir.toAbsolutePath().getParent();
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new KernelException("cannot create " + parent + ": " + e.getMessage(), e);
        }
    }

    private static Path tempSibling(Path destDir, String what) {
        Path abs = destDir.toAbsolutePath();
        try {
            return Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + "." + what + "-");
        } catch (IOException e) {
            throw new KernelException("cannot create a work directory beside " + destDir + ": " + e.getMessage(), e);
        }
    }

    /** Cleanup on the way out: a leftover work directory must not hide the error that caused the exit. */
    private static void deleteQuietly(Path root) {
        try {
            deleteTree(root);
        } catch (KernelException ignored) {
            // Left for the next kernel delete; its name starts with a dot and never looks like a kernel.
        }
    }

    static void deleteTree(Path root) {
        if (root == null || !Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            throw new KernelException("cannot remove " + root + ": " + e.getMessage(), e);
        }
    }
}
