package dev.banger.kernel;

import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import dev.banger.host.Command;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * Gives the plain ELF bytes of a module file, whatever its compression. The initramfs always carries plain
 * {@code .ko} files, so the guest's loader needs no decompressor. xz and gzip are done in Java; zstd through the
 * {@code zstd} program (a pure-Java zstd decoder is not among our dependencies).
 */
final class ModuleDecompressor {

    private final CommandRunner runner;

    ModuleDecompressor(CommandRunner runner) {
        this.runner = runner;
    }

    byte[] read(Path file) {
        String name = file.getFileName().toString();
        try {
            if (name.endsWith(".ko")) {
                return Files.readAllBytes(file);
            }
            if (name.endsWith(".ko.xz")) {
                try (InputStream in = new XZInputStream(Files.newInputStream(file))) {
                    return in.readAllBytes();
                }
            }
            if (name.endsWith(".ko.gz")) {
                try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
                    return in.readAllBytes();
                }
            }
            if (name.endsWith(".ko.zst")) {
                try {
                    return runner.run(Command.of("zstd", "-d", "-c", "-q", file.toString())).stdout();
                } catch (CommandFailedException e) {
                    throw new KernelException("cannot decompress kernel module " + file
                            + " (zstd-compressed modules need the zstd program: apt-get install zstd): "
                            + e.getMessage(), e);
                }
            }
        } catch (IOException e) {
            throw new KernelException("cannot read kernel module " + file + ": " + e.getMessage(), e);
        }
        throw new KernelException("not a kernel module file: " + file);
    }
}
