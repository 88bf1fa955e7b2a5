package dev.banger.cli;

import dev.banger.api.Api;
import dev.banger.api.BangerException;
import dev.banger.api.DaemonStatus;
import dev.banger.api.Empty;
import dev.banger.config.DaemonConfig;
import dev.banger.host.CommandFailedException;
import dev.banger.host.ProcessCommandRunner;
import dev.banger.host.network.GuestNat;
import dev.banger.host.network.NetworkConfig;
import dev.banger.rpc.DaemonNotRunningException;
import dev.banger.rpc.RpcClient;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;

@Command(name = "daemon", description = "Control bangerd explicitly (commands start it automatically when needed).")
final class DaemonCommands extends HelpOption {

    static final CommandGroup GROUP = CommandGroup.of(DaemonCommands.class, Start.class, Stop.class, Status.class,
            CleanupNetwork.class);

    @Command(name = "start", description = "Start bangerd in the background.")
    static final class Start extends Base {
        Start(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            Optional<DaemonStatus> running = context.launcher().status();
            if (running.isPresent()) {
                context.out().println("bangerd is already running (pid " + running.get().pid() + ")");
                return BangerCli.EXIT_OK;
            }
            DaemonStatus status = context.launcher().start();
            context.out().println("bangerd started (pid " + status.pid() + ", log " + status.logFile() + ")");
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "stop", description = "Stop bangerd. Running VMs keep running and are adopted by the next daemon.")
    static final class Stop extends Base {
        Stop(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            Optional<DaemonStatus> running = context.launcher().status();
            if (running.isEmpty()) {
                context.out().println("bangerd is not running");
                return BangerCli.EXIT_OK;
            }
            long pid = running.get().pid();
            try {
                new RpcClient(context.paths().socket()).call(Api.DAEMON_SHUTDOWN, Empty.INSTANCE);
            } catch (DaemonNotRunningException e) {
                context.out().println("bangerd is not running");
                return BangerCli.EXIT_OK;
            }
            Optional<ProcessHandle> process = ProcessHandle.of(pid);
            long deadline = System.nanoTime() + 15_000_000_000L;
            while (process.isPresent() && process.get().isAlive() && System.nanoTime() < deadline) {
                DaemonLauncher.sleep(25);
            }
            if (process.isPresent() && process.get().isAlive()) {
                throw BangerException.unavailable("bangerd (pid " + pid + ") did not stop within 15s; see "
                        + running.get().logFile());
            }
            context.out().println("bangerd stopped (pid " + pid + ")");
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "status", description = "Show whether bangerd runs (exit code 1 when it does not).")
    static final class Status extends ResultCommand {

        Status(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            Optional<DaemonStatus> status = context.launcher().status();
            Path configFile = context.paths().configFile();
            Boolean configChanged = status.map(s -> !DaemonConfig.fingerprint(configFile).equals(
                    s.configFingerprint())).orElse(null);
            print(new StatusReport(status.isPresent(), status.orElse(null), configChanged), r -> {
                if (r.running()) {
                    DaemonStatus s = r.daemon();
                    new Output.Fields().add("state", "running").add("pid", s.pid()).add("version", s.version())
                            .add("started", s.startedAt()).add("socket", s.socket()).add("state dir", s.stateDir())
                            .add("log", s.logFile())
                            .add("config", configFile + (r.configChanged()
                                    ? " (changed since bangerd started; " + DaemonConfig.RESTART_TO_APPLY + ")" : ""))
                            .print(context.out());
                } else {
                    context.out().println("bangerd is not running (socket " + context.paths().socket() + ")");
                }
            });
            return status.isPresent() ? BangerCli.EXIT_OK : BangerCli.EXIT_ERROR;
        }
    }

    @Command(name = "cleanup-network", description = "Remove the NAT rules bangerd added (its iptables chains "
            + "BANGER-POSTROUTING and BANGER-FORWARD) and turn IPv4 forwarding off again if bangerd turned it on. "
            + "Run as root with the daemon stopped; the next VM start adds them again (unless \"nat\": false).")
    static final class CleanupNetwork extends Base {
        CleanupNetwork(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            Optional<DaemonStatus> running = context.launcher().status();
            if (running.isPresent()) {
                throw BangerException.failedPrecondition("bangerd is running (pid " + running.get().pid()
                        + ") and adds the rules again at the next VM start: stop it first (banger daemon stop)");
            }
            NetworkConfig network;
            try {
                network = DaemonConfig.load(context.paths().configFile()).networkConfig();
            } catch (IllegalArgumentException e) {
                throw BangerException.invalidArgument(e.getMessage());
            }
            List<String> removed;
            try {
                removed = new GuestNat(new ProcessCommandRunner(), network, context.paths().natForwardingMarker())
                        .remove();
            } catch (CommandFailedException | java.io.UncheckedIOException e) {
                throw BangerException.failedPrecondition("cannot remove banger's NAT rules: " + e.getMessage()
                        + " (run as root)");
            }
            if (removed.isEmpty()) {
                context.out().println("nothing to remove: no banger NAT rules here");
            }
            removed.forEach(context.out()::println);
            return BangerCli.EXIT_OK;
        }
    }

    /** @param configChanged whether the config file differs from the one the daemon read; null when not running */
    record StatusReport(boolean running, DaemonStatus daemon, Boolean configChanged) {
    }
}
