package dev.banger.cli;

import dev.banger.api.BangerException;
import dev.banger.api.ErrorCode;
import dev.banger.config.BangerPaths;
import dev.banger.config.BuildInfo;
import java.io.PrintWriter;
import java.lang.reflect.Constructor;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code banger}: the command-line client. Commands hold no logic: they parse, call the daemon (or the doctor),
 * and print. Exit codes: 0 success, 1 error (one line on stderr), 2 usage.
 */
@Command(name = "banger", versionProvider = BangerCli.Version.class,
        description = "Disposable Linux microVMs as developer sandboxes.")
public final class BangerCli implements Runnable {

    public static final int EXIT_OK = 0;
    public static final int EXIT_ERROR = 1;
    public static final int EXIT_USAGE = 2;

    /**
     * The command groups, in help order. Only what a command line names is built: picocli reflects over every
     * command class it is given, and that reflection is most of the CLI's start-up. A named group gets the named
     * subcommand (or all of them, for its help and suggestions); otherwise only the groups themselves are built
     * (top-level help and suggestions); completion builds the whole tree.
     */
    private static final List<CommandGroup> GROUPS = List.of(
            CommandGroup.single(DoctorCommand.class),
            DaemonCommands.GROUP, VmCommands.GROUP, ImageCommands.GROUP, KernelCommands.GROUP, TemplateCommands.GROUP,
            SessionCommands.GROUP, WorkspaceCommands.GROUP, SshConfigCommands.GROUP,
            CommandGroup.single(CompletionCommand.class));

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @CommandLine.Option(names = {"-V", "--version"}, versionHelp = true, description = "Print the version and exit.")
    boolean version;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command; see banger --help");
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams and returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CliContext context = new CliContext(BangerPaths.fromEnvironment(), out, err);
        CommandLine cli = commandLine(context, args);
        cli.setOut(out);
        cli.setErr(err);
        int code = cli.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    static CommandLine commandLine(CliContext context, String[] args) {
        ContextFactory factory = new ContextFactory(context);
        CommandLine cli = new CommandLine(BangerCli.class, factory);
        boolean everything = args.length > 0 && "completion".equals(args[0]);
        Optional<CommandGroup> named = args.length == 0 ? Optional.empty()
                : GROUPS.stream().filter(g -> matches(g.container(), args[0])).findFirst();
        for (CommandGroup group : named.isPresent() && !everything ? List.of(named.get()) : GROUPS) {
            CommandLine groupLine = new CommandLine(group.container(), factory);
            List<Class<?>> subcommands = everything || named.isPresent() ? group.subcommands() : List.of();
            if (named.isPresent() && args.length > 1) {
                List<Class<?>> only = subcommands.stream().filter(c -> matches(c, args[1])).toList();
                subcommands = only.isEmpty() ? subcommands : only;
            }
            subcommands.forEach(c -> groupLine.addSubcommand(new CommandLine(c, factory)));
            cli.addSubcommand(groupLine);
        }
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof BangerException || e instanceof IllegalArgumentException) {
                commandLine.getErr().println("banger: " + e.getMessage());
            } else {
                commandLine.getErr().println("banger: unexpected error: " + e);
            }
            // Input the command cannot take (a bad name, a size, a range) is a usage error, as a parse error is.
            boolean usage = e instanceof IllegalArgumentException
                    || e instanceof BangerException be && be.code() == ErrorCode.INVALID_ARGUMENT;
            return usage ? EXIT_USAGE : EXIT_ERROR;
        });
        CommandLine.IParameterExceptionHandler picocli = cli.getParameterExceptionHandler();
        cli.setParameterExceptionHandler((e, argv) -> unknownCommand(e, argv, picocli));
        cli.setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? EXIT_USAGE : EXIT_ERROR);
        return cli;
    }

    /**
     * A word that names no subcommand gets suggestions by edit distance; other parse errors keep picocli's
     * message and usage help.
     */
    private static int unknownCommand(CommandLine.ParameterException e, String[] args,
                                      CommandLine.IParameterExceptionHandler picocli) throws Exception {
        CommandLine at = e.getCommandLine();
        if (!(e instanceof CommandLine.UnmatchedArgumentException u) || at.getSubcommands().isEmpty()
                || u.getUnmatched().isEmpty() || u.getUnmatched().get(0).startsWith("-")) {
            return picocli.handleParseException(e, args);
        }
        String typed = u.getUnmatched().get(0);
        String path = at.getCommandSpec().qualifiedName(" ").replaceFirst("^banger ?", "");
        List<String> close = Suggestions.closeTo(typed, List.copyOf(at.getSubcommands().keySet())).stream()
                .map(word -> at.getSubcommands().get(word).getCommandName()).distinct().toList();
        String prefix = path.isEmpty() ? "banger " : "banger " + path + " ";
        at.getErr().println("banger: unknown command '" + (path.isEmpty() ? "" : path + " ") + typed + "'"
                + (close.isEmpty() ? "; see: " + prefix + "--help"
                : "; did you mean: " + String.join(" or ", close.stream().map(c -> prefix + c).toList()) + "?"));
        return EXIT_USAGE;
    }

    private static boolean matches(Class<?> command, String word) {
        Command annotation = command.getAnnotation(Command.class);
        return annotation.name().equals(word) || List.of(annotation.aliases()).contains(word);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"banger " + BuildInfo.version()};
        }
    }

    /** Builds command objects, handing the shared {@link CliContext} to those whose constructor takes it. */
    private static final class ContextFactory implements CommandLine.IFactory {
        private final CliContext context;
        private final CommandLine.IFactory fallback = CommandLine.defaultFactory();

        ContextFactory(CliContext context) {
            this.context = context;
        }

        @Override
        public <K> K create(Class<K> cls) throws Exception {
            try {
                Constructor<K> withContext = cls.getDeclaredConstructor(CliContext.class);
                withContext.setAccessible(true);
                return withContext.newInstance(context);
            } catch (NoSuchMethodException e) {
                return fallback.create(cls);
            }
        }
    }
}
