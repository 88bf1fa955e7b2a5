package dev.banger.vmm.firecracker;

import dev.banger.host.Executables;
import dev.banger.testkit.AgentProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A {@code bin} directory in which {@code firecracker} is a script that starts {@link FakeFirecrackerMain} in a new
 * JVM (fixed fake options first, then the driver's arguments, passed through unchanged as "$@"), beside a copy of
 * the host's {@code setsid}. {@link #executables()} searches only this directory, so the driver finds these.
 */
public final class FakeFirecrackerInstall {

    private final Path bin;
    private final Path record;

    private FakeFirecrackerInstall(Path bin, Path record) {
        this.bin = bin;
        this.record = record;
    }

    /**
     * @param dir a fresh directory for the install and the request record
     * @param guest whether InstanceStart boots a guest (the real banger-init in agent mode, in {@code dir/guest});
     *     without one nothing in the guest listens or reacts
     * @param taps tap devices the fake pretends exist ({@code bt*}: every name starting "bt")
     */
    public static FakeFirecrackerInstall create(Path dir, boolean guest, List<String> taps) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path record = dir.resolve("requests.jsonl");
        List<String> argv = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-cp", System.getProperty("java.class.path"),
                FakeFirecrackerMain.class.getName(),
                "--fake-record", record.toString()));
        if (guest) {
            argv.addAll(List.of("--fake-guest", AgentProcess.binary().toString(),
                    "--fake-guest-dir", Files.createDirectories(dir.resolve("guest")).toString()));
        }
        if (!taps.isEmpty()) {
            argv.add("--fake-taps");
            argv.add(String.join(",", taps));
        }
        StringBuilder script = new StringBuilder("#!/bin/sh\nexec");
        for (String a : argv) {
            script.append(' ').append(shellQuote(a));
        }
        script.append(" \"$@\"\n");
        Path firecracker = bin.resolve("firecracker");
        Files.writeString(firecracker, script);
        Files.setPosixFilePermissions(firecracker, PosixFilePermissions.fromString("rwxr-xr-x"));
        Optional<Path> setsid = Executables.fromEnvironment().find("setsid");
        if (setsid.isPresent()) {
            // A copy, not a link: JUnit warns about links out of a temp dir when it deletes them.
            Files.copy(setsid.get(), bin.resolve("setsid"), StandardCopyOption.COPY_ATTRIBUTES);
        }
        return new FakeFirecrackerInstall(bin, record);
    }

    private static String shellQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    public Executables executables() {
        return new Executables(bin.toString());
    }

    /** The requests the fake received, one JSON object per line (method, path, body, status, fault). */
    public Path record() {
        return record;
    }
}
