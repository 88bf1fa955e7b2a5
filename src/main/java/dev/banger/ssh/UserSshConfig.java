package dev.banger.ssh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * banger's managed block in the user's {@code ~/.ssh/config}:
 *
 * <pre>
 * # BEGIN banger
 * Include /path/to/banger/config/ssh/config
 * # END banger
 * </pre>
 *
 * <p>A new block goes at the very top of the file, followed by one blank line: ssh takes the first value it
 * obtains for each option, and an {@code Include} below a {@code Host} line would only apply to that host. An
 * existing block is updated where it is. Every byte outside the block is preserved (the file is handled as bytes;
 * a CRLF file gets a CRLF block; a missing final newline stays missing), so uninstall after install gives back
 * the original file exactly. A symlinked config is edited at its target. The file is created 0600 (and
 * {@code ~/.ssh} 0700) when absent; an existing file keeps its mode.
 */
public final class UserSshConfig {

    public static final String BEGIN = "# BEGIN banger";
    public static final String END = "# END banger";

    /** What install or uninstall did. */
    public enum Outcome { INSTALLED, UPDATED, UNCHANGED, REMOVED, ABSENT }

    private UserSshConfig() {
    }

    /** {@code ~/.ssh/config} of the user running this process. */
    public static Path defaultFile() {
        return Path.of(System.getProperty("user.home"), ".ssh", "config");
    }

    /** Adds or refreshes the block including {@code bangerConfig}. */
    public static Outcome install(Path file, Path bangerConfig) {
        String include = "Include " + latin1(SshConfigSyntax.path(bangerConfig.toAbsolutePath()));
        try {
            Path target = target(file);
            boolean exists = Files.exists(target);
            String before = exists ? read(target) : "";
            String after = withBlock(before, include);
            if (exists && after.equals(before)) {
                return Outcome.UNCHANGED;
            }
            if (!exists) {
                Path dir = target.toAbsolutePath().getParent();
                if (!Files.isDirectory(dir)) {
                    Files.createDirectories(dir.getParent());
                    Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(SshFiles.DIR_0700));
                }
            }
            write(target, after, exists ? Files.getPosixFilePermissions(target) : SshFiles.FILE_0600);
            return hasBlock(before) ? Outcome.UPDATED : Outcome.INSTALLED;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot update " + file + ": " + e.getMessage(), e);
        }
    }

    /** Removes banger's block (every copy of it) and nothing else. */
    public static Outcome uninstall(Path file) {
        try {
            Path target = target(file);
            if (!Files.exists(target)) {
                return Outcome.ABSENT;
            }
            String before = read(target);
            if (!hasBlock(before)) {
                return Outcome.ABSENT;
            }
            write(target, withoutBlock(before), Files.getPosixFilePermissions(target));
            return Outcome.REMOVED;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot update " + file + ": " + e.getMessage(), e);
        }
    }

    /** Whether {@code file} has banger's block. */
    public static boolean installed(Path file) {
        try {
            Path target = target(file);
            return Files.exists(target) && hasBlock(read(target));
        } catch (IOException e) {
            return false;
        }
    }

    // ---- the text transformations (content is bytes as ISO-8859-1, so every byte maps to one char) ----

    static boolean hasBlock(String content) {
        return !blocks(split(content)).isEmpty();
    }

    static String withBlock(String content, String includeLine) {
        List<Line> lines = split(content);
        List<int[]> blocks = blocks(lines);
        String eol = lineEnding(lines);
        List<Line> out = new ArrayList<>();
        if (blocks.isEmpty()) {
            out.add(new Line(BEGIN, eol));
            out.add(new Line(includeLine, eol));
            out.add(new Line(END, eol));
            if (!lines.isEmpty()) {
                out.add(new Line("", eol));
            }
            out.addAll(lines);
            return join(out);
        }
        int next = 0;
        for (int b = 0; b < blocks.size(); b++) {
            int[] block = blocks.get(b);
            out.addAll(lines.subList(next, block[0]));
            if (b == 0) {
                String blockEol = lines.get(block[0]).eol().isEmpty() ? eol : lines.get(block[0]).eol();
                out.add(new Line(BEGIN, blockEol));
                out.add(new Line(includeLine, blockEol));
                out.add(new Line(END, lines.get(block[1]).eol()));
            }
            next = block[1] + 1;
        }
        out.addAll(lines.subList(next, lines.size()));
        return join(out);
    }

    static String withoutBlock(String content) {
        List<Line> lines = split(content);
        List<Line> out = new ArrayList<>();
        int next = 0;
        for (int[] block : blocks(lines)) {
            out.addAll(lines.subList(next, block[0]));
            next = block[1] + 1;
            boolean separatorFollows = block[0] == 0 && next < lines.size() && lines.get(next).text().isEmpty()
                    && !lines.get(next).eol().isEmpty();
            if (separatorFollows) {
                next++; // The blank line install put after a block at the top.
            }
        }
        out.addAll(lines.subList(next, lines.size()));
        return join(out);
    }

    /** [begin, end] line indexes of each block. @throws IllegalStateException for a BEGIN without its END */
    private static List<int[]> blocks(List<Line> lines) {
        List<int[]> found = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).text().strip().equals(BEGIN)) {
                continue;
            }
            int j = i + 1;
            while (j < lines.size() && !lines.get(j).text().strip().equals(END)) {
                j++;
            }
            if (j == lines.size()) {
                throw new IllegalStateException("the ssh config has '" + BEGIN + "' on line " + (i + 1)
                        + " but no '" + END + "' after it; fix the file by hand, then run this again");
            }
            found.add(new int[] {i, j});
            i = j;
        }
        return found;
    }

    private record Line(String text, String eol) {
    }

    private static List<Line> split(String content) {
        List<Line> lines = new ArrayList<>();
        int start = 0;
        while (start < content.length()) {
            int nl = content.indexOf('\n', start);
            if (nl < 0) {
                lines.add(new Line(content.substring(start), ""));
                break;
            }
            boolean crlf = nl > start && content.charAt(nl - 1) == '\r';
            lines.add(new Line(content.substring(start, crlf ? nl - 1 : nl), crlf ? "\r\n" : "\n"));
            start = nl + 1;
        }
        return lines;
    }

    private static String join(List<Line> lines) {
        StringBuilder sb = new StringBuilder();
        for (Line l : lines) {
            sb.append(l.text()).append(l.eol());
        }
        return sb.toString();
    }

    /** The file's own line ending (that of its first terminated line); LF for a new or one-line file. */
    private static String lineEnding(List<Line> lines) {
        return lines.stream().map(Line::eol).filter(e -> !e.isEmpty()).findFirst().orElse("\n");
    }

    private static String latin1(String text) {
        return new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    /** Gives {@code copy} the owner of {@code original} where this process may (root editing a user's file). */
    private static void keepOwner(Path original, Path copy) {
        try {
            Object uid = Files.getAttribute(original, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            Object gid = Files.getAttribute(original, "unix:gid", LinkOption.NOFOLLOW_LINKS);
            if (!uid.equals(Files.getAttribute(copy, "unix:uid"))
                    || !gid.equals(Files.getAttribute(copy, "unix:gid"))) {
                Files.setAttribute(copy, "unix:uid", uid);
                Files.setAttribute(copy, "unix:gid", gid);
            }
        } catch (IOException | UnsupportedOperationException e) {
            // Not permitted: the file becomes this user's, which is whose config it is.
        }
    }

    private static Path target(Path file) throws IOException {
        return Files.isSymbolicLink(file) ? file.toRealPath() : file;
    }

    private static String read(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
    }

    /** Replaces {@code file} atomically (a temp file beside it, then a rename), with {@code mode}. */
    private static void write(Path file, String content, Set<PosixFilePermission> mode) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".banger.tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(SshFiles.FILE_0600));
        try {
            Files.write(tmp, content.getBytes(StandardCharsets.ISO_8859_1), StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
            Files.setPosixFilePermissions(tmp, mode);
            if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                keepOwner(file, tmp);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
