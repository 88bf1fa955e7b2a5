package dev.banger.kernel;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Builds the kernel-specific part of the initramfs: a small directory skeleton with {@code /dev/console}, the
 * modules to load (uncompressed, at their usual {@code /lib/modules/<version>/...} paths) and
 * {@code /etc/banger/modules}, which lists those paths one per line in load order for the guest init.
 */
final class ModulesInitramfsBuilder {

    /** Read by banger-init: absolute module paths, one per line, dependencies first. */
    static final String MODULE_LIST = "/etc/banger/modules";

    void build(String version, ModuleIndex index, List<KernelModule> modules, Path out) {
        try (OutputStream file = Files.newOutputStream(out);
             GZIPOutputStream gz = new GZIPOutputStream(file, 64 * 1024);
             CpioWriter cpio = new CpioWriter(gz)) {
            writeSkeleton(cpio);
            StringBuilder list = new StringBuilder();
            for (KernelModule module : modules) {
                String path = "/lib/modules/" + version + "/" + module.uncompressedPath();
                cpio.file(path, 0644, index == null ? new byte[0] : index.read(module));
                list.append(path).append('\n');
            }
            cpio.file(MODULE_LIST, 0644, list.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new KernelException("cannot write initramfs " + out + ": " + e.getMessage(), e);
        }
    }

    static void writeSkeleton(CpioWriter cpio) throws IOException {
        cpio.directory("/dev", 0755);
        cpio.characterDevice("/dev/console", 0600, 5, 1);
        cpio.directory("/etc", 0755);
        cpio.directory("/etc/banger", 0755);
        cpio.directory("/proc", 0555);
        cpio.directory("/root", 0700);
        cpio.directory("/run", 0755);
        cpio.directory("/sys", 0555);
        cpio.directory("/tmp", 01777);
    }
}
