package dev.banger.testkit;

import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandResult;
import dev.banger.host.CommandRunner;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * A {@link CommandRunner} test double: records every command line and answers from scripted rules, so tests can
 * pin the exact sequence of programs a component runs (losetup, dmsetup) where the programs cannot run for real.
 * Like {@link dev.banger.host.ProcessCommandRunner}, a non-zero answer is thrown as {@link CommandFailedException}
 * unless the command allows failure.
 *
 * <p>Rules match an argv prefix and are tried in the order they were added; a rule limited with {@link
 * Rule#times} stops matching once used up. A command no rule matches gets the fallback answer (exit 0, no output,
 * unless {@link #otherwise} replaced it).
 */
public final class RecordingCommandRunner implements CommandRunner {

    /** One scripted answer for commands starting with a given argv prefix. */
    public final class Rule {
        private final List<String> prefix;
        private Function<Command, CommandResult> answer = c -> ok("");
        private int remaining = Integer.MAX_VALUE;

        private Rule(List<String> prefix) {
            this.prefix = prefix;
        }

        public Rule thenReturn(String stdout) {
            answer = c -> ok(stdout);
            return this;
        }

        public Rule thenFail(int exitCode, String stderr) {
            answer = c -> failure(exitCode, stderr);
            return this;
        }

        public Rule thenAnswer(Function<Command, CommandResult> function) {
            answer = function;
            return this;
        }

        /** Matches only the next {@code n} commands. */
        public Rule times(int n) {
            remaining = n;
            return this;
        }

        private boolean matches(List<String> argv) {
            return remaining > 0 && argv.size() >= prefix.size() && argv.subList(0, prefix.size()).equals(prefix);
        }
    }

    private final List<Command> commands = new ArrayList<>();
    private final List<Rule> rules = new ArrayList<>();
    private Function<Command, CommandResult> fallback = c -> ok("");

    /** Adds a rule for commands whose argv starts with {@code argvPrefix}. */
    public synchronized Rule when(String... argvPrefix) {
        Rule rule = new Rule(Arrays.asList(argvPrefix));
        rules.add(rule);
        return rule;
    }

    /** Answers commands that no rule matches. */
    public synchronized RecordingCommandRunner otherwise(Function<Command, CommandResult> answer) {
        fallback = answer;
        return this;
    }

    @Override
    public CommandResult run(Command command) {
        CommandResult result;
        synchronized (this) {
            commands.add(command);
            Function<Command, CommandResult> answer = fallback;
            for (Rule rule : rules) {
                if (rule.matches(command.argv())) {
                    rule.remaining--;
                    answer = rule.answer;
                    break;
                }
            }
            result = answer.apply(command);
        }
        if (!result.succeeded() && !command.allowFailure()) {
            throw new CommandFailedException(command, result.exitCode(), result.stderrText(),
                    "exit code " + result.exitCode());
        }
        return result;
    }

    /** Every command run so far, in order. */
    public synchronized List<Command> commands() {
        return List.copyOf(commands);
    }

    /** Every command line run so far, as {@link Command#display()} renders it. */
    public synchronized List<String> commandLines() {
        return commands.stream().map(Command::display).toList();
    }

    public synchronized void clear() {
        commands.clear();
    }

    public static CommandResult ok(String stdout) {
        return new CommandResult(0, stdout.getBytes(StandardCharsets.UTF_8), new byte[0]);
    }

    public static CommandResult failure(int exitCode, String stderr) {
        return new CommandResult(exitCode, new byte[0], stderr.getBytes(StandardCharsets.UTF_8));
    }
}
