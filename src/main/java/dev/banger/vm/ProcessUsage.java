package dev.banger.vm;

import dev.banger.guest.AgentClient;
import dev.banger.guest.ExecProcess;
import dev.banger.guest.ExecSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/** Resource use of a VMM process (from /proc) and of its guest (through the agent). */
final class ProcessUsage {

    private static final long TICKS_PER_SECOND = 100; // USER_HZ on Linux x86_64.

    private ProcessUsage() {
    }

    /** CPU use of {@code pid} over {@code sample}, in percent of one core; -1 when it cannot be read. */
    static double cpuPercent(long pid, Duration sample) throws InterruptedException {
        long before = cpuTicks(pid);
        long t0 = System.nanoTime();
        Thread.sleep(sample.toMillis());
        long after = cpuTicks(pid);
        if (before < 0 || after < 0) {
            return -1;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        return Math.round((after - before) / (double) TICKS_PER_SECOND / seconds * 1000) / 10.0;
    }

    static long rssBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // Gone.
        }
        return -1;
    }

    /** The guest's /proc/meminfo, in bytes. */
    static Map<String, Long> meminfo(AgentClient guest) throws IOException, InterruptedException {
        ExecProcess cat = guest.exec(ExecSpec.of("cat", "/proc/meminfo").withoutStdin());
        cat.stderr().close();
        String text = new String(cat.stdout().readAllBytes(), StandardCharsets.UTF_8);
        try {
            cat.waitFor(Duration.ofSeconds(5));
        } catch (TimeoutException e) {
            cat.cancel();
        }
        Map<String, Long> values = new HashMap<>();
        for (String line : text.split("\n")) {
            String[] parts = line.split(":\\s*");
            if (parts.length == 2 && parts[1].endsWith(" kB")) {
                values.put(parts[0], Long.parseLong(parts[1].replace(" kB", "").strip()) * 1024);
            }
        }
        return values;
    }

    private static long cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime + stime
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
