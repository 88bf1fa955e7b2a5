package dev.banger.kernel;

import dev.banger.model.KernelArtifacts;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Produces the initrd a VM boots with: the kernel's cached modules archive followed by a second gzipped cpio
 * holding the guest init as {@code /init}. The result is cached in the kernel's directory under a name derived
 * from the SHA-256 of the init (and any extra files), so it is rebuilt exactly when banger-init changes; building
 * it costs one copy of the modules archive plus compressing the init.
 */
public final class InitrdAssembler {

    static final String PREFIX = "initrd-";
    static final String SUFFIX = ".img";

    /** The initrd for {@code kernel} with {@code init} as {@code /init}. */
    public Path initrdFor(KernelArtifacts kernel, Path init) {
        return initrdFor(kernel, init, List.of());
    }

    /**
     * The initrd for {@code kernel} with {@code init} as {@code /init} and {@code extraFiles} beside it (used by
     * tests that run a busybox script as init). Safe to call concurrently: the file appears atomically.
     */
    public Path initrdFor(KernelArtifacts kernel, Path init, List<InitramfsFile> extraFiles) {
        if (!Files.isRegularFile(init)) {
            throw new KernelException("guest init " + init + " does not exist; build banger-init (mvn package)");
        }
        List<InitramfsFile> extras = new ArrayList<>(extraFiles);
        extras.sort(Comparator.comparing(InitramfsFile::path));
        Path dir = kernel.directory();
        Path target = dir.resolve(PREFIX + key(kernel, init, extras) + SUFFIX);
        if (Files.isRegularFile(target)) {
            return target;
        }
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, ".initrd-", ".tmp");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                Files.copy(kernel.modulesInitramfs(), out);
                GZIPOutputStream gz = new GZIPOutputStream(out, 64 * 1024);
                try (CpioWriter cpio = new CpioWriter(gz)) {
                    cpio.file("/init", 0755, init);
                    for (InitramfsFile extra : extras) {
                        cpio.file(extra.path(), extra.permissions(), extra.source());
                    }
                }
                gz.close(); // also closes out; the try closes it again harmlessly
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            return target;
        } catch (IOException e) {
            throw new KernelException("cannot build initrd " + target + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // A stray temp file is harmless; the next prune or kernel delete removes it.
                }
            }
        }
    }

    /**
     * Deletes all but the {@code keep} most recently used initrds of {@code kernel}. Call when no VM of this kernel
     * is starting (a running VMM has already read its initrd).
     */
    public void prune(KernelArtifacts kernel, int keep) {
        List<Path> initrds = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(kernel.directory(), PREFIX + "*" + SUFFIX)) {
            dir.forEach(initrds::add);
            initrds.sort(Comparator.comparing(InitrdAssembler::modified).reversed());
            for (Path old : initrds.subList(Math.min(keep, initrds.size()), initrds.size())) {
                Files.deleteIfExists(old);
            }
        } catch (IOException e) {
            throw new KernelException("cannot prune initrds in " + kernel.directory() + ": " + e.getMessage(), e);
        }
    }

    private static FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    private static String key(KernelArtifacts kernel, Path init, List<InitramfsFile> extras) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            update(sha, "modules:" + Files.size(kernel.modulesInitramfs()) + ":"
                    + Files.getLastModifiedTime(kernel.modulesInitramfs()).toMillis());
            update(sha, "init");
            sha.update(Files.readAllBytes(init));
            for (InitramfsFile extra : extras) {
                update(sha, "file:" + extra.path() + ":" + Integer.toOctalString(extra.permissions()));
                sha.update(Files.readAllBytes(extra.source()));
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (IOException e) {
            throw new KernelException("cannot read initramfs input: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void update(MessageDigest sha, String s) {
        sha.update(s.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
    }
}
