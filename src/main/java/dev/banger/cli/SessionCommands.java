package dev.banger.cli;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "session", description = "Long-running guest processes that survive client disconnects.")
final class SessionCommands extends HelpOption {

    static final CommandGroup GROUP = CommandGroup.of(SessionCommands.class, Start.class, ListSessions.class,
            Attach.class, Logs.class, Kill.class);

    @Command(name = "start", description = "Start a detached session in a VM.")
    static final class Start extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "The VM.")
        String vm;
        @Option(names = "--name", paramLabel = "S", description = "Session name (default: generated).")
        String session;
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD")
        List<String> command;

        Start(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            throw NotImplementedYet.command("session start", 6);
        }
    }

    @Command(name = "list", aliases = "ls", description = "List a VM's sessions.")
    static final class ListSessions extends Base {
        @Parameters(paramLabel = "NAME")
        String vm;
        @Option(names = "--json", description = "Print as JSON.")
        boolean json;

        ListSessions(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            throw NotImplementedYet.command("session list", 6);
        }
    }

    @Command(name = "attach", description = "Attach to a session: earlier output, then live (detach with Ctrl-] d).")
    static final class Attach extends Base {
        @Parameters(index = "0", paramLabel = "NAME")
        String vm;
        @Parameters(index = "1", paramLabel = "S")
        String session;

        Attach(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            throw NotImplementedYet.command("session attach", 6);
        }
    }

    @Command(name = "logs", description = "Print a session's output.")
    static final class Logs extends Base {
        @Parameters(index = "0", paramLabel = "NAME")
        String vm;
        @Parameters(index = "1", paramLabel = "S")
        String session;
        @Option(names = {"-f", "--follow"}, description = "Keep printing new output.")
        boolean follow;

        Logs(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            throw NotImplementedYet.command("session logs", 6);
        }
    }

    @Command(name = "kill", description = "Signal a session's process.")
    static final class Kill extends Base {
        @Parameters(index = "0", paramLabel = "NAME")
        String vm;
        @Parameters(index = "1", paramLabel = "S")
        String session;
        @Option(names = "--signal", paramLabel = "SIG", defaultValue = "TERM", description = "Signal (default: TERM).")
        String signal;

        Kill(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            throw NotImplementedYet.command("session kill", 6);
        }
    }
}
