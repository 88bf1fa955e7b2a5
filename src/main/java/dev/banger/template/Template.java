package dev.banger.template;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A captured guest, ready to be restored (docs/snapshots.md). Its directory holds the RAM ({@code memory.ram}), the
 * VMM's device state ({@code device.state}), the root disk as it was at capture, and copies of the kernel and
 * initramfs it booted; every file is read-only once published. The root disk is the file a VM's root-disk
 * strategy keeps, under that strategy's name: {@code root.qcow2} (QEMU: a qcow2 overlay over the image) or
 * {@code root.img} (Firecracker: the whole raw disk), so a clone's copy of it is a root disk of the same kind.
 *
 * @param key what it was built from
 * @param rootDiskFile the root disk's file name in {@code dir}
 * @param kernelCmdline the command line it booted with (a clone's VMM is started with the same one)
 * @param createdAt when it was captured (ISO-8601)
 * @param bootMillis how long its boot took, from VMM start to the agent's answer
 * @param captureMillis how long the capture took
 * @param dir its directory
 */
public record Template(TemplateKey key, String rootDiskFile, String kernelCmdline, String createdAt, long bootMillis, long captureMillis,
                       Path dir) {

    public static final String MEMORY = "memory.ram";
    public static final String DEVICE_STATE = "device.state";
    /** The root disk of a template recorded before the file name was (QEMU's qcow2 overlay). */
    public static final String QCOW2_ROOT_DISK = "root.qcow2";
    public static final String KERNEL = "kernel";
    public static final String INITRD = "initrd.img";
    public static final String RECORD = "template.json";

    public Template {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(rootDiskFile, "rootDiskFile");
        if (rootDiskFile.isEmpty() || rootDiskFile.contains("/") || rootDiskFile.startsWith(".")) {
            throw new IllegalArgumentException("a template's root disk is a file in its directory, not \""
                    + rootDiskFile + "\"");
        }
        Objects.requireNonNull(kernelCmdline, "kernelCmdline");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(dir, "dir");
    }

    public String id() {
        return key.id();
    }

    public Path memory() {
        return dir.resolve(MEMORY);
    }

    public Path deviceState() {
        return dir.resolve(DEVICE_STATE);
    }

    public Path rootDisk() {
        return dir.resolve(rootDiskFile);
    }

    public Path kernel() {
        return dir.resolve(KERNEL);
    }

    public Path initrd() {
        return dir.resolve(INITRD);
    }
}
