package dev.banger.model;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An imported kernel, ready to boot: the kernel image and the cached first part of its initramfs. Everything lives
 * in one directory owned by the kernel store; the paths are absolute.
 *
 * <p>The initramfs is split on purpose. {@code modulesInitramfs} (skeleton directories, the needed kernel modules
 * and {@code /etc/banger/modules}) depends only on the kernel and is built once at import. The guest init is
 * appended per boot by {@link InitrdAssembler}, because banger-init changes whenever banger is rebuilt while the
 * kernel does not. Linux accepts concatenated, separately compressed cpio archives as one initramfs.
 *
 * @param version the kernel release, as {@code uname -r} will print it in the guest
 * @param format layout of {@code kernel}
 * @param kernel the kernel image
 * @param vmlinux the uncompressed ELF kernel unpacked from a bzImage, for VMMs that boot only ELF kernels
 *     (Firecracker); null when {@code kernel} is already an ELF, or its payload could not be unpacked
 * @param modulesInitramfs gzipped newc cpio with the modules part of the initramfs
 * @param modules module names in load order (dependencies first); empty when the kernel needs none
 * @param source where the kernel came from
 */
public record KernelArtifacts(String version, KernelFormat format, Path kernel, Path vmlinux,
                              Path modulesInitramfs, List<String> modules, KernelSource source) {

    public KernelArtifacts {
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(modulesInitramfs, "modulesInitramfs");
        modules = List.copyOf(modules);
        Objects.requireNonNull(source, "source");
    }

    /**
     * The file {@code vmm} boots: QEMU the kernel as imported; Firecracker an ELF, the imported one or the
     * vmlinux unpacked from the bzImage. Empty when this kernel has nothing {@code vmm} can boot.
     */
    public Optional<Path> bootImage(VmmKind vmm) {
        if (vmm == VmmKind.FIRECRACKER && format != KernelFormat.ELF) {
            return Optional.ofNullable(vmlinux);
        }
        return Optional.of(kernel);
    }

    /** The directory holding this kernel's files. */
    public Path directory() {
        return kernel.getParent();
    }
}
