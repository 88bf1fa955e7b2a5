package dev.banger.host.disk;

import dev.banger.host.Command;
import dev.banger.host.CommandResult;
import dev.banger.host.CommandRunner;
import dev.banger.host.Executables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What the host offers the root-disk strategies. Probing costs a few file reads and a PATH search (plus one
 * {@code dmsetup version} on hosts where device-mapper is a module not loaded yet), so callers probe per decision
 * (a module loaded since daemon start counts) rather than caching; tests build one directly.
 *
 * @param deviceMapper whether the kernel has device-mapper
 * @param deviceMapperEvidence where that was seen, or what was looked at when absent
 * @param root whether this process runs as root (loop devices and device-mapper need it)
 * @param programs which of {@link #PROGRAMS} are on the search path
 */
public record HostCapabilities(boolean deviceMapper, String deviceMapperEvidence, boolean root,
                               Set<String> programs) {

    /** The programs the strategies run. */
    public static final List<String> PROGRAMS = List.of("dmsetup", "losetup", "qemu-img", "cp");

    private static final Duration DRIVER_PROBE_TIMEOUT = Duration.ofSeconds(10);

    public HostCapabilities {
        programs = Set.copyOf(programs);
    }

    public boolean has(String program) {
        return programs.contains(program);
    }

    /** This host; {@code runner} asks dmsetup only when the kernel's own listing is not conclusive. */
    public static HostCapabilities probe(CommandRunner runner) {
        return probe(Path.of("/dev/mapper/control"), Path.of("/proc/misc"), Path.of("/proc/self/status"),
                Executables.fromEnvironment(), runner);
    }

    /**
     * Probes with other paths, for tests. Device-mapper is present when /proc/misc lists it (the driver is
     * loaded). Otherwise a control node proves nothing by itself: kmod creates it so the first open loads
     * dm_mod, and any dmsetup run creates it even on a kernel without device-mapper. So then the driver is asked
     * ({@code dmsetup version}, which loads the module where it exists); a missing node is never created here.
     *
     * @param procStatus this process's {@code /proc/self/status}, whose {@code Uid:} line gives the effective uid
     */
    static HostCapabilities probe(Path mapperControl, Path procMisc, Path procStatus, Executables executables,
                                  CommandRunner runner) {
        Set<String> found = new LinkedHashSet<>();
        for (String program : PROGRAMS) {
            if (executables.has(program)) {
                found.add(program);
            }
        }
        boolean root = isRoot(procStatus);
        if (miscHasDeviceMapper(procMisc)) {
            return new HostCapabilities(true, procMisc.toString(), root, found);
        }
        if (!Files.exists(mapperControl)) {
            return new HostCapabilities(false, "no " + mapperControl + ", not in " + procMisc, root, found);
        }
        if (!found.contains("dmsetup")) {
            return new HostCapabilities(true, mapperControl.toString(), root, found);
        }
        CommandResult version = runner.run(Command.of("dmsetup", "version").withTimeout(DRIVER_PROBE_TIMEOUT)
                .allowingFailure());
        if (version.succeeded()) {
            return new HostCapabilities(true, mapperControl + ", driver answered dmsetup version", root, found);
        }
        return new HostCapabilities(false, mapperControl + " exists but the kernel's device-mapper driver does "
                + "not answer (not in " + procMisc + ", dmsetup version fails)", root, found);
    }

    private static boolean miscHasDeviceMapper(Path procMisc) {
        try {
            // Lines are "<minor> <name>"; match the name exactly.
            return Files.readAllLines(procMisc).stream()
                    .map(String::strip)
                    .anyMatch(line -> line.endsWith(" device-mapper"));
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean isRoot(Path procStatus) {
        try {
            // "Uid:\t<real>\t<effective>\t<saved>\t<fs>"
            return Files.readAllLines(procStatus).stream()
                    .filter(line -> line.startsWith("Uid:"))
                    .map(line -> line.substring(4).strip().split("\\s+"))
                    .anyMatch(ids -> ids.length > 1 && ids[1].equals("0"));
        } catch (IOException e) {
            return false;
        }
    }
}
