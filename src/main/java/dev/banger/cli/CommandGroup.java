package dev.banger.cli;

import java.util.List;

/**
 * A command group ({@code vm}, {@code image}, ...): its annotated container class and its subcommand classes in
 * help order. {@link BangerCli} builds only the subcommand a command line names.
 */
record CommandGroup(Class<?> container, List<Class<?>> subcommands) {

    static CommandGroup of(Class<?> container, Class<?>... subcommands) {
        return new CommandGroup(container, List.of(subcommands));
    }

    static CommandGroup single(Class<?> command) {
        return new CommandGroup(command, List.of());
    }
}
