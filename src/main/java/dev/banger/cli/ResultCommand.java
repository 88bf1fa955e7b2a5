package dev.banger.cli;

import java.util.function.Consumer;
import picocli.CommandLine.Option;

/**
 * A command that prints a result two ways: its JSON document with {@code --json} (for scripts; every field, raw
 * units), a table or key/value lines otherwise (for people). An inherited option rather than a picocli mixin,
 * for the start-up reason {@link HelpOption} gives.
 */
abstract class ResultCommand extends Base {

    @Option(names = "--json", description = "Print as JSON.")
    boolean json;

    ResultCommand(CliContext context) {
        super(context);
    }

    /** Prints {@code result} as JSON with {@code --json}, otherwise hands it to {@code human} to print. */
    <T> void print(T result, Consumer<T> human) {
        if (json) {
            Output.json(context.out(), result);
        } else {
            human.accept(result);
        }
    }
}
