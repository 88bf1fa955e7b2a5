package dev.banger.doctor;

import dev.banger.config.BangerInstall;
import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** How banger is installed (the Debian package or a build tree) and whether its systemd units are in use. */
final class InstallChecks {

    static final String SOCKET_UNIT = "bangerd.socket";
    static final String SERVICE_UNIT = "bangerd.service";
    /** Where systemd looks for unit files: the admin's, then the packages' (merged /usr or not). */
    static final List<Path> UNIT_DIRS = List.of(Path.of("/etc/systemd/system"), Path.of("/lib/systemd/system"),
            Path.of("/usr/lib/systemd/system"));

    private final Doctor.HostProbe host;
    private final CommandRunner runner;

    InstallChecks(Doctor.HostProbe host, CommandRunner runner) {
        this.host = host;
        this.runner = runner;
    }

    CheckResult install() {
        return CheckResult.pass("install", BangerInstall.describe());
    }

    CheckResult service() {
        Optional<Path> unit = UNIT_DIRS.stream().map(d -> d.resolve(SOCKET_UNIT)).filter(host::exists).findFirst();
        if (unit.isEmpty()) {
            return CheckResult.pass("service", "no " + SOCKET_UNIT + " installed: the CLI starts bangerd on first use");
        }
        if (!host.exists(Path.of("/run/systemd/system"))) {
            return CheckResult.warn("service", unit.get() + " is installed but systemd is not running here: the CLI "
                    + "starts bangerd on first use", "nothing to do in a container or chroot; on a host booted "
                    + "with systemd: systemctl enable --now " + SOCKET_UNIT);
        }
        String socket = activeState(SOCKET_UNIT);
        String service = activeState(SERVICE_UNIT);
        String detail = SOCKET_UNIT + " " + socket + ", " + SERVICE_UNIT + " " + service
                + ("active".equals(service) ? "" : " (started by the first connection)");
        if ("active".equals(socket)) {
            return CheckResult.pass("service", detail);
        }
        return CheckResult.warn("service", detail, "systemctl enable --now " + SOCKET_UNIT
                + " (until then the CLI starts bangerd itself)");
    }

    /** What {@code systemctl is-active} says (active, inactive, failed, ...; it exits non-zero for all but active). */
    private String activeState(String unit) {
        try {
            String out = runner.run(Command.of("systemctl", "is-active", unit).allowingFailure()
                    .withTimeout(Duration.ofSeconds(10))).stdoutText().strip();
            return out.isEmpty() ? "unknown" : out;
        } catch (CommandFailedException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }
}
