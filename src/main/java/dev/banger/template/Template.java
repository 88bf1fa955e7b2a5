package dev.banger.template;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A captured guest, ready to be restored (docs/snapshots.md). Its directory holds the RAM ({@code memory.ram}), the
 * VMM's device state ({@code device.state}), the root disk as it was at capture ({@code root.qcow2}, an overlay
 * over the image), and links to the kernel and initramfs it booted; every file is read-only once published.
 *
 * @param key what it was built from
 * @param kernelCmdline the command line it booted with (a clone's VMM is started with the same one)
 * @param createdAt when it was captured (ISO-8601)
 * @param bootMillis how long its boot took, from VMM start to the agent's answer
 * @param captureMillis how long the capture took
 * @param dir its directory
 */
public record Template(TemplateKey key, String kernelCmdline, String createdAt, long bootMillis, long captureMillis,
                       Path dir) {

    public static final String MEMORY = "memory.ram";
    public static final String DEVICE_STATE = "device.state";
    public static final String ROOT_DISK = "root.qcow2";
    public static final String KERNEL = "kernel";
    public static final String INITRD = "initrd.img";
    public static final String RECORD = "template.json";

    public Template {
        Objects.requireNonNull(key, "key");
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
        return dir.resolve(ROOT_DISK);
    }

    public Path kernel() {
        return dir.resolve(KERNEL);
    }

    public Path initrd() {
        return dir.resolve(INITRD);
    }
}
