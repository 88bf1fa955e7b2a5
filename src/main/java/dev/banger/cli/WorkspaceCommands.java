package dev.banger.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "workspace", description = "The git workspace inside a VM.")
final class WorkspaceCommands extends HelpOption {

    static final CommandGroup GROUP = CommandGroup.of(WorkspaceCommands.class, Export.class);

    @Command(name = "export",
            description = "Bring the guest repository's commits back into the host repository as a branch.")
    static final class Export extends Base {
        @Parameters(paramLabel = "NAME")
        String vm;
        @Option(names = "--branch", paramLabel = "B", description = "Branch to create (default: banger/NAME).")
        String branch;

        Export(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            throw NotImplementedYet.command("workspace export", 6);
        }
    }
}
