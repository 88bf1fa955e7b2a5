package dev.banger.cli;

import dev.banger.config.BangerPaths;
import dev.banger.config.BuildInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Man pages (troff, section 1) from the picocli model: {@code banger(1)} and one page per command and command
 * group ({@code banger-vm(1)}, {@code banger-vm-run(1)}, ...), named as git names its pages. Run at package time
 * ({@code packaging/build-deb.sh}); the pages say what {@code --help} says, so they cannot drift from it.
 */
public final class ManPages {

    private ManPages() {
    }

    /** Usage: {@code ManPages OUT_DIR}: writes {@code OUT_DIR/banger*.1}. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ManPages OUT_DIR");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        Files.createDirectories(out);
        for (Map.Entry<String, String> page : pages().entrySet()) {
            Files.writeString(out.resolve(page.getKey() + ".1"), page.getValue());
        }
    }

    /** Page name ({@code banger-vm-run}) to its troff source, for the whole command tree. */
    static Map<String, String> pages() {
        PrintWriter sink = new PrintWriter(Writer.nullWriter());
        CliContext context = new CliContext(BangerPaths.resolve(Map.of(BangerPaths.HOME_ENV, "/nonexistent"),
                "/", 0), sink, sink);
        Map<String, String> pages = new LinkedHashMap<>();
        collect(BangerCli.commandLine(context, new String[] {"completion"}), pages);
        return pages;
    }

    private static void collect(CommandLine command, Map<String, String> pages) {
        CommandSpec spec = command.getCommandSpec();
        pages.put(pageName(spec), page(spec));
        for (CommandLine sub : distinct(command)) {
            collect(sub, pages);
        }
    }

    /** Subcommands once each (picocli lists an alias as a key of its own), without hidden ones. */
    private static List<CommandLine> distinct(CommandLine command) {
        List<CommandLine> subs = new ArrayList<>();
        for (CommandLine sub : command.getSubcommands().values()) {
            if (!subs.contains(sub) && !sub.getCommandSpec().usageMessage().hidden()) {
                subs.add(sub);
            }
        }
        return subs;
    }

    static String pageName(CommandSpec spec) {
        return spec.qualifiedName("-");
    }

    static String page(CommandSpec spec) {
        StringBuilder t = new StringBuilder();
        String name = pageName(spec);
        t.append(".TH \"").append(name.toUpperCase(java.util.Locale.ROOT)).append("\" 1 \"\" \"banger ")
                .append(escape(BuildInfo.version())).append("\" \"banger manual\"\n");
        t.append(".SH NAME\n").append(escape(name)).append(" \\- ").append(escape(firstLine(spec))).append('\n');

        t.append(".SH SYNOPSIS\n.nf\n");
        CommandLine.Help help = new CommandLine.Help(spec, CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
        for (String line : help.synopsis(0).stripTrailing().split("\n")) {
            t.append(escape(line.replaceFirst("^Usage: ", ""))).append('\n');
        }
        t.append(".fi\n");

        t.append(".SH DESCRIPTION\n");
        for (String line : spec.usageMessage().description()) {
            t.append(escape(line)).append("\n.PP\n");
        }
        if (spec.aliases().length > 0) {
            t.append("Also: ").append(escape(String.join(", ", spec.aliases()))).append(".\n");
        }

        List<PositionalParamSpec> params = spec.positionalParameters();
        if (!params.isEmpty()) {
            t.append(".SH ARGUMENTS\n");
            for (PositionalParamSpec p : params) {
                t.append(".TP\n\\fI").append(escape(p.paramLabel())).append("\\fR\n")
                        .append(escape(String.join(" ", p.description()))).append('\n');
            }
        }
        List<OptionSpec> options = spec.options();
        if (!options.isEmpty()) {
            t.append(".SH OPTIONS\n");
            for (OptionSpec o : options) {
                t.append(".TP\n");
                List<String> names = new ArrayList<>();
                for (String n : o.names()) {
                    names.add("\\fB" + escape(n) + "\\fR");
                }
                t.append(String.join(", ", names));
                if (o.arity().max() > 0) {
                    t.append("=\\fI").append(escape(o.paramLabel())).append("\\fR");
                }
                t.append('\n').append(escape(String.join(" ", o.description()))).append('\n');
            }
        }
        List<CommandLine> subs = distinct(spec.commandLine());
        if (!subs.isEmpty()) {
            t.append(".SH COMMANDS\n");
            for (CommandLine sub : subs) {
                t.append(".TP\n\\fB").append(escape(pageName(sub.getCommandSpec()))).append("\\fR(1)\n")
                        .append(escape(firstLine(sub.getCommandSpec()))).append('\n');
            }
        }
        t.append(".SH SEE ALSO\n");
        CommandSpec parent = spec.parent();
        t.append(parent == null ? "\\fBbangerd\\fR runs as the systemd service bangerd.service (socket activated by "
                + "bangerd.socket) or is started by the first command; \\fBbanger doctor\\fR checks the host.\n"
                : "\\fB" + escape(pageName(parent)) + "\\fR(1)\n");
        return t.toString();
    }

    private static String firstLine(CommandSpec spec) {
        String[] description = spec.usageMessage().description();
        return description.length == 0 ? spec.name() : description[0];
    }

    /** Text as troff shows it: backslashes and hyphens escaped, no line starting a request. */
    static String escape(String text) {
        String s = text.replace("%n", "\n").replace("%%", "%").replace("\\", "\\e").replace("-", "\\-");
        if (s.startsWith(".") || s.startsWith("'")) {
            s = "\\&" + s;
        }
        return s.replace("\n.", "\n\\&.").replace("\n'", "\n\\&'");
    }
}
