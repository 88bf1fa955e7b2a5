package dev.banger.testkit;

import dev.banger.host.Command;
import dev.banger.host.CommandResult;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads an ext4 image with debugfs (read-only), as a test inspects a built root disk without mounting it. */
public final class Ext4Inspector {

    private static final Pattern OWNER = Pattern.compile("User:\\s+(\\d+)\\s+Group:\\s+(\\d+)");
    private static final Pattern MODE = Pattern.compile("Mode:\\s+(\\d+)");
    private static final Pattern TYPE = Pattern.compile("Type:\\s+(\\S+)");
    private static final Pattern DEVICE = Pattern.compile("Device major/minor number: (\\d+):(\\d+)");
    private static final Pattern MTIME = Pattern.compile("mtime: 0x([0-9a-f]+)");

    private final Path image;

    public Ext4Inspector(Path image) {
        this.image = image;
    }

    /** What {@code debugfs -R 'stat PATH'} says, or null when the path does not exist. */
    public Stat stat(String path) {
        CommandResult r = debugfs("stat " + path);
        String out = r.stdoutText();
        Matcher owner = OWNER.matcher(out);
        Matcher mode = MODE.matcher(out);
        Matcher type = TYPE.matcher(out);
        if (!owner.find() || !mode.find() || !type.find()) {
            return null;
        }
        return new Stat(type.group(1), Integer.parseInt(mode.group(1), 8), Integer.parseInt(owner.group(1)),
                Integer.parseInt(owner.group(2)), out);
    }

    public boolean exists(String path) {
        return stat(path) != null;
    }

    /** The content of a regular file. */
    public String cat(String path) {
        return debugfs("cat " + path).stdoutText();
    }

    /** A symlink's target, from debugfs' "Fast link dest:" line. */
    public String linkTarget(String path) {
        Stat s = stat(path);
        if (s == null) {
            return null;
        }
        Matcher m = Pattern.compile("Fast link dest: \"([^\"]*)\"").matcher(s.raw());
        return m.find() ? m.group(1) : null;
    }

    /** The extended attributes listing of a path. */
    public String xattrs(String path) {
        return debugfs("ea_list " + path).stdoutText();
    }

    private CommandResult debugfs(String request) {
        return TestAssets.runner().run(Command.of("debugfs", "-R", request, image.toString()).allowingFailure());
    }

    /**
     * @param type debugfs' first word of the type: "regular", "directory", "symlink", "character", "block", "FIFO"
     * @param mode the permission bits (07777)
     */
    public record Stat(String type, int mode, int uid, int gid, String raw) {

        /** "MAJOR:MINOR" of a device node (decimal), or null for other files. */
        public String device() {
            Matcher m = DEVICE.matcher(raw);
            return m.find() ? Integer.parseInt(m.group(1)) + ":" + Integer.parseInt(m.group(2)) : null;
        }

        /** The modification time, in seconds since the epoch (the low 32 bits ext4 keeps in the inode). */
        public long mtimeSeconds() {
            Matcher m = MTIME.matcher(raw);
            if (!m.find()) {
                throw new IllegalStateException("no mtime in: " + raw);
            }
            return Long.parseLong(m.group(1), 16);
        }
    }
}
