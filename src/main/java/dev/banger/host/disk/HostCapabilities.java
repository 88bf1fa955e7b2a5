package dev.banger.host.disk;

import dev.banger.host.Executables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What the host offers the root-disk strategies. Probing costs two file checks and a PATH search, so callers
 * probe per decision (a module loaded since daemon start counts) rather than caching; tests build one directly.
 *
 * @param deviceMapper whether the kernel has device-mapper
 * @param deviceMapperEvidence where that was seen ({@code /dev/mapper/control} or {@code /proc/misc}), or what
 *     was looked at when absent
 * @param root whether this process runs as root (loop devices and device-mapper need it)
 * @param programs which of {@link #PROGRAMS} are on the search path
 */
public record HostCapabilities(boolean deviceMapper, String deviceMapperEvidence, boolean root,
                               Set<String> programs) {

    /** The programs the strategies run. */
    public static final List<String> PROGRAMS = List.of("dmsetup", "losetup", "qemu-img", "cp");

    public HostCapabilities {
        programs = Set.copyOf(programs);
    }

    public boolean has(String program) {
        return programs.contains(program);
    }

    /** This host. */
    public static HostCapabilities probe() {
        return probe(Path.of("/dev/mapper/control"), Path.of("/proc/misc"), Path.of("/proc/self/status"),
                Executables.fromEnvironment());
    }

    /**
     * Probes with other paths, for tests.
     *
     * @param procStatus this process's {@code /proc/self/status}, whose {@code Uid:} line gives the effective uid
     */
    static HostCapabilities probe(Path mapperControl, Path procMisc, Path procStatus, Executables executables) {
        boolean control = Files.exists(mapperControl);
        boolean misc = !control && miscHasDeviceMapper(procMisc);
        String evidence = control ? mapperControl.toString() : misc ? procMisc.toString()
                : "no " + mapperControl + ", not in " + procMisc;
        Set<String> found = new LinkedHashSet<>();
        for (String program : PROGRAMS) {
            if (executables.has(program)) {
                found.add(program);
            }
        }
        return new HostCapabilities(control || misc, evidence, isRoot(procStatus), found);
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
