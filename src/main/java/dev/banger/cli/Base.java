package dev.banger.cli;

import java.util.concurrent.Callable;

/** What every command has: {@code --help}, the shared {@link CliContext}, and an exit code. */
abstract class Base extends HelpOption implements Callable<Integer> {

    final CliContext context;

    Base(CliContext context) {
        this.context = context;
    }
}
