package dev.banger.image;

import java.nio.file.Path;

/** For tests outside this package: the Debian release and mirror this host's debootstrap builds use. */
public final class HostDebian {

    private HostDebian() {
    }

    public static String suite() {
        return DebootstrapImage.suite(Path.of("/etc/os-release"));
    }

    public static String mirror() {
        return DebootstrapImage.mirror(Path.of("/etc/apt"));
    }
}
