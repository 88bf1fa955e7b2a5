package dev.banger.cli;

import picocli.CommandLine.Option;

/**
 * {@code -h/--help} for every command and group: a plain usage-help option, because picocli's standard-help
 * mixin costs tens of milliseconds of start-up per command.
 */
abstract class HelpOption {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;
}
