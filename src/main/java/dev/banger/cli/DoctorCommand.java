package dev.banger.cli;

import dev.banger.doctor.CheckResult;
import dev.banger.doctor.Doctor;
import dev.banger.host.ProcessCommandRunner;
import java.util.List;
import picocli.CommandLine.Command;

@Command(name = "doctor", description = "Check this host for what banger needs (PASS/WARN/FAIL, with the fix).")
final class DoctorCommand extends ResultCommand {

    DoctorCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        List<CheckResult> results = new Doctor(Doctor.HostProbe.real(), new ProcessCommandRunner(),
                context.paths()).run();
        boolean healthy = Doctor.healthy(results);
        print(new Report(healthy, results), report -> {
            for (CheckResult r : report.checks()) {
                context.out().printf("%-4s  %-13s %s%n", r.status(), r.check(), r.detail());
                if (r.fix() != null && r.status() != CheckResult.Status.PASS) {
                    context.out().printf("      %-13s fix: %s%n", "", r.fix());
                }
            }
        });
        return healthy ? BangerCli.EXIT_OK : BangerCli.EXIT_ERROR;
    }

    record Report(boolean healthy, List<CheckResult> checks) {
    }
}
