package dev.banger.cli;

import dev.banger.doctor.CheckResult;
import dev.banger.doctor.Doctor;
import dev.banger.host.ProcessCommandRunner;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "doctor", description = "Check this host for what banger needs (PASS/WARN/FAIL, with the fix).")
final class DoctorCommand extends Base {

    @Option(names = "--json", description = "Print the checks as JSON.")
    boolean json;

    DoctorCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        List<CheckResult> results = new Doctor(Doctor.HostProbe.real(), new ProcessCommandRunner(),
                context.paths()).run();
        boolean healthy = Doctor.healthy(results);
        if (json) {
            Output.json(context.out(), new Report(healthy, results));
        } else {
            for (CheckResult r : results) {
                context.out().printf("%-4s  %-13s %s%n", r.status(), r.check(), r.detail());
                if (r.fix() != null && r.status() != CheckResult.Status.PASS) {
                    context.out().printf("      %-13s fix: %s%n", "", r.fix());
                }
            }
        }
        return healthy ? BangerCli.EXIT_OK : BangerCli.EXIT_ERROR;
    }

    record Report(boolean healthy, List<CheckResult> checks) {
    }
}
