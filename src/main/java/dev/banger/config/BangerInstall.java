package dev.banger.config;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where this build of banger keeps its own files: the build directory holding {@code banger.jar} (or
 * {@code classes/}) also holds {@code guest/banger-init}. The system property {@code banger.init.binary}
 * overrides the guest binary (tests, packagers).
 */
public final class BangerInstall {

    public static final String INIT_BINARY_PROPERTY = "banger.init.binary";
    /** Set by {@code bin/banger} to its own resolved path, so banger can write commands that run itself. */
    public static final String LAUNCHER_PROPERTY = "banger.launcher";
    /** Set to {@code package} by the Debian package's launchers (packaging/build-deb.sh). */
    public static final String INSTALL_PROPERTY = "banger.install";

    private BangerInstall() {
    }

    /** The static banger-init binary that goes into every initramfs. */
    public static Path initBinary() {
        String override = System.getProperty(INIT_BINARY_PROPERTY);
        if (override != null && !override.isBlank()) {
            return Path.of(override);
        }
        return buildDir().resolve("guest").resolve("banger-init");
    }

    /**
     * How to run this banger CLI from another program (ssh's ProxyCommand): the launcher that started this JVM,
     * else {@code banger} found on PATH, else plain {@code banger}.
     */
    public static String cliLauncher() {
        String launcher = System.getProperty(LAUNCHER_PROPERTY);
        if (launcher != null && !launcher.isBlank()) {
            return launcher;
        }
        return dev.banger.host.Executables.fromEnvironment().find("banger").map(Path::toString).orElse("banger");
    }

    /** True when this is the Debian package (its launchers say so), false in a build tree. */
    public static boolean isPackage() {
        return "package".equals(System.getProperty(INSTALL_PROPERTY));
    }

    /**
     * How this banger is installed, for people: the package with the directory it lives in and its own Java
     * runtime, or the build tree it runs from.
     */
    public static String describe() {
        Path dir = buildDir();
        if (isPackage()) {
            // jpackage's layout: APP/lib/app holds the jars, APP/lib/runtime the jlink'd runtime.
            Path app = dir.getParent() != null && dir.getParent().getParent() != null
                    ? dir.getParent().getParent() : dir;
            return "Debian package, " + app + " (banger " + BuildInfo.version() + ", own Java runtime "
                    + System.getProperty("java.home") + ")";
        }
        return "build tree, " + dir + " (banger " + BuildInfo.version() + ", Java " + System.getProperty("java.version")
                + " at " + System.getProperty("java.home") + ")";
    }

    /** The directory holding banger.jar or classes/: target/ in a checkout. */
    static Path buildDir() {
        try {
            Path code = Path.of(BangerInstall.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return Files.isDirectory(code) ? code.getParent() : code.getParent();
        } catch (URISyntaxException | SecurityException e) {
            throw new IllegalStateException("cannot locate banger's build directory: " + e.getMessage(), e);
        }
    }
}
