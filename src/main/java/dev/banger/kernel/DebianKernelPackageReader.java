package dev.banger.kernel;

import dev.banger.host.Executables;
import dev.banger.host.CommandRunner;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Unpacks a {@code linux-image-*.deb} and finds its kernel image and modules directory. */
final class DebianKernelPackageReader {

    private final DebExtractor extractor;
    private final JavaDebExtractor controlReader;

    DebianKernelPackageReader(CommandRunner runner, Executables executables) {
        this.controlReader = new JavaDebExtractor(runner, DebianKernelPackageReader::isKernelFile);
        this.extractor = executables.has("dpkg-deb") ? new DpkgDebExtractor(runner) : controlReader;
    }

    DebianKernelPackageReader(DebExtractor extractor, CommandRunner runner) {
        this.extractor = extractor;
        this.controlReader = new JavaDebExtractor(runner, DebianKernelPackageReader::isKernelFile);
    }

    /** Unpacks {@code deb} into {@code workDir} (existing, empty) and locates the kernel in it. */
    DebianKernelPackage read(Path deb, Path workDir) {
        if (!Files.isRegularFile(deb)) {
            throw new KernelException("kernel package " + deb + " does not exist");
        }
        String reference = reference(deb);
        extractor.extract(deb, workDir);
        List<Path> kernels = new ArrayList<>();
        Path boot = workDir.resolve("boot");
        if (Files.isDirectory(boot)) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(boot, "vmlinuz-*")) {
                files.forEach(kernels::add);
            } catch (IOException e) {
                throw new KernelException("cannot list " + boot + ": " + e.getMessage(), e);
            }
        }
        if (kernels.size() != 1) {
            throw new KernelException(deb + " is not a kernel image package: expected one boot/vmlinuz-<version>, "
                    + "found " + (kernels.isEmpty() ? "none" : kernels.size())
                    + " (the linux-image-*.deb, not linux-headers or a meta-package, is needed)");
        }
        Path kernel = kernels.get(0);
        String version = kernel.getFileName().toString().substring("vmlinuz-".length());
        Path modules = workDir.resolve("lib/modules").resolve(version);
        if (!Files.isDirectory(modules)) {
            modules = workDir.resolve("usr/lib/modules").resolve(version);
        }
        if (!Files.isDirectory(modules)) {
            throw new KernelException(deb + " has boot/vmlinuz-" + version + " but no lib/modules/" + version
                    + "; on Ubuntu the modules are in linux-modules-" + version + ": import the vmlinuz with "
                    + "`banger kernel import` and that package's modules directory");
        }
        return new DebianKernelPackage(version, kernel, modules, reference);
    }

    private String reference(Path deb) {
        String name = null;
        String version = null;
        for (String[] field : controlReader.control(deb)) {
            if (field[0].equals("Package")) {
                name = field[1];
            } else if (field[0].equals("Version")) {
                version = field[1];
            }
        }
        if (name == null) {
            throw new KernelException(deb + " is not a Debian package: its control file has no Package field");
        }
        return version == null ? name : name + " " + version;
    }

    /** What the built-in extractor keeps: the kernel image and modules, not docs or System.map. */
    static boolean isKernelFile(String name) {
        return name.equals("boot") || name.startsWith("boot/vmlinuz-")
                || name.equals("lib") || name.startsWith("lib/modules")
                || name.equals("usr") || name.equals("usr/lib") || name.startsWith("usr/lib/modules");
    }
}
