package dev.banger.cli;

import dev.banger.api.Api;
import dev.banger.api.Event;
import dev.banger.api.SessionKillRequest;
import dev.banger.api.SessionList;
import dev.banger.api.SessionLogsRequest;
import dev.banger.api.SessionRef;
import dev.banger.api.SessionStartRequest;
import dev.banger.api.SessionView;
import dev.banger.api.VmRef;
import dev.banger.model.Signals;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "session", description = "Long-running guest processes that survive client disconnects.")
final class SessionCommands extends HelpOption {

    static final CommandGroup GROUP = CommandGroup.of(SessionCommands.class, Start.class, ListSessions.class,
            Attach.class, Logs.class, Kill.class, Remove.class);

    @Command(name = "start", description = "Start a detached session in a VM; prints its name.")
    static final class Start extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "The VM.")
        String vm;
        @Option(names = "--name", paramLabel = "S", description = "Session name (default: from the command).")
        String session;
        @Option(names = {"-t", "--tty"}, description = "Run on a terminal (attach then gets a raw terminal).")
        boolean tty;
        @Option(names = {"-w", "--workdir"}, paramLabel = "DIR", description = "Directory to run in.")
        String workdir;
        @Option(names = "--replace", description = "Replace an ended session of the same name (its output goes).")
        boolean replace;
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD", description = "Command (after --).")
        List<String> command;

        Start(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            int[] size = tty ? Terminal.size().orElse(new int[] {24, 80}) : new int[] {0, 0};
            SessionView s = context.call(Api.SESSION_START, new SessionStartRequest(vm, session, command, null,
                    workdir, tty, size[0], size[1], replace));
            context.out().println(s.name());
            context.err().println("started session " + s.name() + " (pid " + s.pid() + "); attach with: banger "
                    + "session attach " + vm + " " + s.name());
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "list", aliases = "ls", description = "List a VM's sessions, running and ended.")
    static final class ListSessions extends ResultCommand {
        @Parameters(paramLabel = "NAME", description = "The VM.")
        String vm;

        ListSessions(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            SessionList list = context.call(Api.SESSION_LIST, new VmRef(vm));
            print(list, l -> {
                Output.Table table = new Output.Table("NAME", "STATE", "PID", "RUNTIME", "OUTPUT", "ATTACHED",
                        "COMMAND");
                for (SessionView s : l.sessions()) {
                    table.row(s.name(), state(s), s.pid(), duration(s.runtimeMs()), bytes(s.outputBytes()),
                            s.attached(), String.join(" ", s.argv()));
                }
                table.print(context.out());
            });
            return BangerCli.EXIT_OK;
        }

        static String state(SessionView s) {
            if ("running".equals(s.state())) {
                return "running";
            }
            return s.signal() != null ? "killed (" + Signals.name(s.signal()) + ")" : "exited " + s.exitCode();
        }

        static String duration(long ms) {
            long s = ms / 1000;
            if (s < 60) {
                return s + "s";
            }
            if (s < 3600) {
                return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
            }
            return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
        }

        static String bytes(long n) {
            if (n < 1024) {
                return n + "B";
            }
            if (n < 1024 * 1024) {
                return String.format(Locale.ROOT, "%.1fKiB", n / 1024.0);
            }
            return String.format(Locale.ROOT, "%.1fMiB", n / (1024.0 * 1024));
        }
    }

    @Command(name = "attach", description = "Attach to a session: earlier output, then live (detach with Ctrl-] d).")
    static final class Attach extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "The VM.")
        String vm;
        @Parameters(index = "1", paramLabel = "S", description = "The session.")
        String session;

        Attach(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            return AttachSession.run(context, vm, session);
        }
    }

    @Command(name = "logs", description = "Print a session's output (the guest keeps its last MiB).")
    static final class Logs extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "The VM.")
        String vm;
        @Parameters(index = "1", paramLabel = "S", description = "The session.")
        String session;
        @Option(names = {"-f", "--follow"}, description = "Keep printing new output until the session ends.")
        boolean follow;

        Logs(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            context.call(Api.SESSION_LOGS, new SessionLogsRequest(vm, session, follow), event -> {
                if (event instanceof Event.Output o) {
                    System.out.write(o.data(), 0, o.data().length);
                    System.out.flush();
                }
            });
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "kill", description = "Signal a session's processes (default TERM).")
    static final class Kill extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "The VM.")
        String vm;
        @Parameters(index = "1", paramLabel = "S", description = "The session.")
        String session;
        @Option(names = {"-s", "--signal"}, paramLabel = "SIG", defaultValue = "TERM",
                description = "Signal name or number (default: TERM).")
        String signal;

        Kill(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            context.call(Api.SESSION_KILL, new SessionKillRequest(vm, session, signal));
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "rm", aliases = "remove", description = "Forget ended sessions and their output.")
    static final class Remove extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "The VM.")
        String vm;
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "S", description = "The sessions.")
        List<String> sessions;

        Remove(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            for (String s : sessions) {
                context.call(Api.SESSION_REMOVE, new SessionRef(vm, s));
                context.out().println("removed " + s);
            }
            return BangerCli.EXIT_OK;
        }
    }
}
