package dev.banger.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.config.BangerPaths;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The whole command tree as picocli sees it, and what a mistyped command gets, without a daemon. */
class CommandModelTest {

    @TempDir
    Path tmp;

    private CliContext context() {
        return new CliContext(new BangerPaths(tmp.resolve("s"), tmp.resolve("c"), tmp.resolve("r")),
                new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
    }

    @Test
    void everyOptionAndParameterHasADescription() {
        CommandLine all = BangerCli.commandLine(context(), new String[] {"completion"});
        List<String> undescribed = new ArrayList<>();
        walk(all, undescribed);

        assertThat(undescribed).as("options and parameters whose --help line says nothing").isEmpty();
    }

    @Test
    void aMistypedSubcommandSuggestsTheNearestAndExitsTwo() {
        StringWriter err = new StringWriter();
        int code = BangerCli.run(new String[] {"vm", "stp", "x"}, new PrintWriter(new StringWriter()),
                new PrintWriter(err));

        assertThat(code).isEqualTo(BangerCli.EXIT_USAGE);
        assertThat(err.toString()).isEqualTo("banger: unknown command 'vm stp'; did you mean: banger vm stop?\n");
    }

    private static void walk(CommandLine command, List<String> undescribed) {
        CommandLine.Model.CommandSpec spec = command.getCommandSpec();
        for (CommandLine.Model.OptionSpec option : spec.options()) {
            if (String.join("", option.description()).isBlank()) {
                undescribed.add(spec.qualifiedName(" ") + " " + option.longestName());
            }
        }
        for (CommandLine.Model.PositionalParamSpec param : spec.positionalParameters()) {
            if (String.join("", param.description()).isBlank()) {
                undescribed.add(spec.qualifiedName(" ") + " " + param.paramLabel());
            }
        }
        command.getSubcommands().values().stream().distinct().forEach(c -> walk(c, undescribed));
    }
}
