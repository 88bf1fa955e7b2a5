package dev.banger.image;

import dev.banger.host.Command;
import dev.banger.host.CommandResult;
import dev.banger.host.CommandRunner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether an ext4 root filesystem has something to run: {@code /bin/sh} or {@code /sbin/init} must resolve to a
 * regular, executable file inside it. Read with {@code debugfs} (read-only, no mount); symlinks are followed inside
 * the image (debugfs resolves the directories of a path within the file system, this class follows a final
 * symlink itself), never on the host. An image without either boots (banger-init is PID 1) but cannot run a
 * command, which is what {@code image register} warns about.
 */
final class BootCheck {

    /** The programs a guest runs commands with; one of them is enough. */
    static final List<String> PROGRAMS = List.of("/bin/sh", "/sbin/init");
    private static final int MAX_LINKS = 40;
    private static final Pattern TYPE = Pattern.compile("Type:\\s+(\\S+)");
    private static final Pattern MODE = Pattern.compile("Mode:\\s+(\\d+)");
    private static final Pattern FAST_LINK = Pattern.compile("Fast link dest: \"(.*)\"");

    private final CommandRunner runner;

    BootCheck(CommandRunner runner) {
        this.runner = runner;
    }

    /** Empty when one of {@link #PROGRAMS} is a regular executable, else what is wrong with each, in one line. */
    Optional<String> problem(Path ext4) {
        List<String> problems = new ArrayList<>();
        for (String program : PROGRAMS) {
            String problem = resolve(ext4, program);
            if (problem == null) {
                return Optional.empty();
            }
            problems.add(program + " " + problem);
        }
        return Optional.of(String.join("; ", problems));
    }

    /** Null when {@code path} resolves to a regular executable, else why not. */
    private String resolve(Path ext4, String path) {
        String current = path;
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int hop = 0; hop <= MAX_LINKS; hop++) {
            if (!seen.add(current)) {
                return "is a symlink loop (" + printable(current) + " links back to itself)";
            }
            if (!isQuotable(current)) {
                return "leads to a name debugfs cannot look up (" + printable(current) + ")";
            }
            String stat = debugfs(ext4, "stat \"" + current + "\"");
            Matcher type = TYPE.matcher(stat);
            Matcher mode = MODE.matcher(stat);
            if (!type.find() || !mode.find()) {
                return current.equals(path) ? "does not exist" : "is a symlink to " + current
                        + ", which does not exist";
            }
            switch (type.group(1)) {
                case "regular" -> {
                    if ((Integer.parseInt(mode.group(1), 8) & 0111) == 0) {
                        return (current.equals(path) ? "is" : "resolves to " + current + ", which is")
                                + " not executable";
                    }
                    return null;
                }
                case "symlink" -> {
                    String target = linkTarget(ext4, current, stat);
                    if (target == null || target.isEmpty()) {
                        return "is a symlink whose target cannot be read";
                    }
                    current = target.startsWith("/") ? target : parent(current) + "/" + target;
                }
                default -> {
                    return (current.equals(path) ? "is" : "resolves to " + current + ", which is") + " a "
                            + type.group(1) + ", not a program";
                }
            }
        }
        return "is a chain of more than " + MAX_LINKS + " symlinks";
    }

    private String linkTarget(Path ext4, String link, String stat) {
        Matcher fast = FAST_LINK.matcher(stat);
        if (fast.find()) {
            return fast.group(1);
        }
        // A target of 60 bytes or more lives in a data block, which cat prints.
        return debugfs(ext4, "cat \"" + link + "\"").strip();
    }

    private String debugfs(Path ext4, String request) {
        CommandResult r = runner.run(Command.of("debugfs", "-R", request, ext4.toString()).allowingFailure()
                .withTimeout(Duration.ofSeconds(30)));
        return r.stdoutText();
    }

    private static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "" : path.substring(0, slash);
    }

    /** debugfs splits its request on blanks and honours double quotes; a name with a quote or control cannot pass. */
    private static boolean isQuotable(String path) {
        return path.chars().noneMatch(c -> c == '"' || c < 0x20 || c == 0x7f) && path.length() < 4096;
    }

    private static String printable(String s) {
        String p = s.replaceAll("\\p{Cntrl}", "?");
        return p.length() > 100 ? p.substring(0, 100) + "..." : p;
    }
}
