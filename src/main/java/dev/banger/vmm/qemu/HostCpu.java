package dev.banger.vmm.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * The host CPU clock, for the guest's {@code tsc_early_khz=}: under TCG, calibrating the TSC against the emulated
 * PIT randomly fails and the boot hangs (2 of 5 boots without it, 0 of 16 with it, on this host).
 */
public final class HostCpu {

    private final Path cpuinfo;

    HostCpu(Path cpuinfo) {
        this.cpuinfo = cpuinfo;
    }

    public static HostCpu forHost() {
        return new HostCpu(Path.of("/proc/cpuinfo"));
    }

    /** Whole MHz of the first CPU times 1000, or empty when /proc/cpuinfo has no "cpu MHz" line. */
    public OptionalLong tscKhz() {
        List<String> lines;
        try {
            lines = Files.readAllLines(cpuinfo);
        } catch (IOException e) {
            return OptionalLong.empty();
        }
        for (String line : lines) {
            if (line.startsWith("cpu MHz")) {
                int colon = line.indexOf(':');
                try {
                    long mhz = (long) Double.parseDouble(line.substring(colon + 1).strip());
                    return mhz > 0 ? OptionalLong.of(mhz * 1000) : OptionalLong.empty();
                } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
                    return OptionalLong.empty();
                }
            }
        }
        return OptionalLong.empty();
    }
}
