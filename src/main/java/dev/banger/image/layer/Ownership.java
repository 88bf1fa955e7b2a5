package dev.banger.image.layer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** Ownership and mode changes that never follow a symlink (lchown; chmod through an O_NOFOLLOW descriptor). */
final class Ownership {

    private Ownership() {
    }

    /** lchown: on a symlink, changes the link itself. */
    static void chown(Path path, int uid, int gid) throws IOException {
        Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Sets all twelve mode bits (setuid, setgid, sticky included). Must not be used on symlinks, FIFOs or devices:
     * it opens the file (O_NOFOLLOW) to change it.
     */
    static void chmod(Path path, int mode) throws IOException {
        Files.setAttribute(path, "unix:mode", mode & 07777, LinkOption.NOFOLLOW_LINKS);
    }

    /** True when this process can give files away (it runs as root). */
    static boolean canChown() {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return uid instanceof Integer i && i == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }
}
