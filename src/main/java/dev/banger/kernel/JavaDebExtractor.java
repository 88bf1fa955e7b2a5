package dev.banger.kernel;

import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * Extracts a .deb without dpkg: the {@code ar} container, then {@code data.tar.xz}, {@code .gz}, {@code .zst}
 * (through the {@code zstd} program) or plain {@code data.tar}. Entries whose names are absolute or contain
 * {@code ..}, and entries that would be written through a symlink pointing outside the destination, are rejected:
 * a package is untrusted input.
 */
final class JavaDebExtractor implements DebExtractor {

    private final CommandRunner runner;
    private final Predicate<String> wanted;

    /**
     * @param wanted which entry names (normalised, no leading "./") to extract; directories leading to them are
     *     created as needed
     */
    JavaDebExtractor(CommandRunner runner, Predicate<String> wanted) {
        this.runner = runner;
        this.wanted = wanted;
    }

    @Override
    public String name() {
        return "built-in extractor";
    }

    @Override
    public void extract(Path deb, Path dest) {
        try {
            Path root = dest.toRealPath();
            withMember(deb, "data.tar", tar -> untar(tar, root, deb));
        } catch (IOException e) {
            throw new KernelException("cannot extract " + deb + ": " + e.getMessage(), e);
        }
    }

    /** The fields of the package's {@code control} file (Package, Version, ...), continuation lines dropped. */
    List<String[]> control(Path deb) {
        List<String[]> fields = new ArrayList<>();
        try {
            withMember(deb, "control.tar", tar -> {
                TarArchiveEntry entry;
                while ((entry = tar.getNextEntry()) != null) {
                    if (normalize(entry.getName()).equals("control")) {
                        String text = new String(tar.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                        for (String line : text.split("\n")) {
                            int colon = line.indexOf(':');
                            if (colon > 0 && !Character.isWhitespace(line.charAt(0))) {
                                fields.add(new String[] {line.substring(0, colon), line.substring(colon + 1).strip()});
                            }
                        }
                        return;
                    }
                }
            });
        } catch (IOException e) {
            throw new KernelException("cannot read the control file of " + deb + ": " + e.getMessage(), e);
        }
        return fields;
    }

    private interface TarConsumer {
        void accept(TarArchiveInputStream tar) throws IOException;
    }

    private void withMember(Path deb, String prefix, TarConsumer consumer) throws IOException {
        try (ArArchiveInputStream ar = new ArArchiveInputStream(new BufferedInputStream(Files.newInputStream(deb)))) {
            ArArchiveEntry entry;
            boolean sawDebianBinary = false;
            while ((entry = ar.getNextEntry()) != null) {
                String name = entry.getName();
                if (name.equals("debian-binary")) {
                    sawDebianBinary = true;
                }
                if (!name.startsWith(prefix)) {
                    continue;
                }
                if (name.endsWith(".zst")) {
                    Path tmp = Files.createTempFile("banger-deb-", ".tar.zst");
                    Path tar = Path.of(tmp + ".tar");
                    try {
                        Files.copy(ar, tmp, StandardCopyOption.REPLACE_EXISTING);
                        runner.run(Command.of("zstd", "-d", "-q", "-f", "-o", tar.toString(), tmp.toString())
                                .withTimeout(Duration.ofMinutes(5)));
                        try (TarArchiveInputStream in = new TarArchiveInputStream(
                                new BufferedInputStream(Files.newInputStream(tar)))) {
                            consumer.accept(in);
                        }
                    } catch (CommandFailedException e) {
                        throw new KernelException(deb + " is zstd-compressed; extracting it needs dpkg-deb or the "
                                + "zstd program (apt-get install zstd): " + e.getMessage(), e);
                    } finally {
                        Files.deleteIfExists(tmp);
                        Files.deleteIfExists(tar);
                    }
                    return;
                }
                InputStream data;
                if (name.equals(prefix)) {
                    data = ar;
                } else if (name.endsWith(".xz")) {
                    data = new XZInputStream(ar);
                } else if (name.endsWith(".gz")) {
                    data = new GZIPInputStream(ar);
                } else {
                    throw new KernelException(deb + ": unsupported compression of member " + name);
                }
                consumer.accept(new TarArchiveInputStream(new BufferedInputStream(data)));
                return;
            }
            throw new KernelException(deb + " is not a Debian package: "
                    + (sawDebianBinary ? "no " + prefix + ".* member" : "no debian-binary member"));
        } catch (IllegalArgumentException e) {
            // commons-compress signals a malformed ar header this way.
            throw new KernelException(deb + " is not a Debian package: " + e.getMessage(), e);
        }
    }

    private void untar(TarArchiveInputStream tar, Path root, Path deb) throws IOException {
        TarArchiveEntry entry;
        while ((entry = tar.getNextEntry()) != null) {
            String name = normalize(entry.getName());
            if (name.isEmpty()) {
                continue;
            }
            checkName(entry.getName(), deb);
            if (!wanted.test(name)) {
                continue;
            }
            Path target = root.resolve(name);
            if (entry.isDirectory()) {
                createDirectories(root, target, deb);
                continue;
            }
            createDirectories(root, target.getParent(), deb);
            Files.deleteIfExists(target);
            if (entry.isSymbolicLink()) {
                Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
            } else if (entry.isLink()) {
                String linkName = normalize(entry.getLinkName());
                checkName(entry.getLinkName(), deb);
                Path source = root.resolve(linkName);
                requireInside(root, source.toRealPath(), deb, entry.getLinkName());
                Files.createLink(target, source);
            } else if (entry.isFile()) {
                Files.copy(tar, target);
                if ((entry.getMode() & 0100) != 0) {
                    target.toFile().setExecutable(true, false);
                }
            }
        }
    }

    /** Creates {@code dir} and its parents, refusing to follow any symlink out of {@code root}. */
    private static void createDirectories(Path root, Path dir, Path deb) throws IOException {
        Path current = root;
        for (Path part : root.relativize(dir)) {
            current = current.resolve(part.toString());
            if (Files.isSymbolicLink(current)) {
                requireInside(root, current.toRealPath(), deb, root.relativize(current).toString());
            } else if (!Files.exists(current, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(current);
            }
        }
    }

    private static void requireInside(Path root, Path real, Path deb, String what) {
        if (!real.startsWith(root)) {
            throw new KernelException(deb + ": entry " + what + " points outside the extraction directory");
        }
    }

    static void checkName(String raw, Path deb) {
        String name = raw.startsWith("./") ? raw.substring(2) : raw;
        if (name.startsWith("/")) {
            throw new KernelException(deb + ": refusing absolute path in package: " + raw);
        }
        for (String part : name.split("/")) {
            if (part.equals("..")) {
                throw new KernelException(deb + ": refusing path with '..' in package: " + raw);
            }
        }
    }

    static String normalize(String raw) {
        String name = raw;
        while (name.startsWith("./")) {
            name = name.substring(2);
        }
        while (name.endsWith("/")) {
            name = name.substring(0, name.length() - 1);
        }
        return name.equals(".") ? "" : name;
    }
}
