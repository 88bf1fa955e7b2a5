package dev.banger.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "completion", description = "Print a bash/zsh completion script: source <(banger completion)")
final class CompletionCommand extends Base {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    CompletionCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        context.out().print(AutoComplete.bash("banger", spec.root().commandLine()));
        context.out().flush();
        return BangerCli.EXIT_OK;
    }
}
