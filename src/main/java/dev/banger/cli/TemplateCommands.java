package dev.banger.cli;

import dev.banger.api.Api;
import dev.banger.api.Empty;
import dev.banger.api.TemplateList;
import dev.banger.api.TemplatePruneRequest;
import dev.banger.api.TemplateView;
import dev.banger.model.Sizes;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "template", description = "Captured guests that new VMs restore from instead of booting "
        + "(see docs/snapshots.md).")
final class TemplateCommands extends HelpOption {

    static final CommandGroup GROUP = CommandGroup.of(TemplateCommands.class, ListTemplates.class, Prune.class);

    @Command(name = "list", aliases = "ls", description = "List templates with their inputs and disk use.")
    static final class ListTemplates extends ResultCommand {

        ListTemplates(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            TemplateList list = context.call(Api.TEMPLATE_LIST, Empty.INSTANCE);
            print(list, l -> table(l).print(context.out()));
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "prune", description = "Remove templates no new VM would restore from (their image, kernel or "
            + "VMM changed or is gone); with --all, every template.")
    static final class Prune extends ResultCommand {
        @Option(names = "--all", description = "Remove every template (the next VMs boot and rebuild them).")
        boolean all;

        Prune(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            TemplateList removed = context.call(Api.TEMPLATE_PRUNE, new TemplatePruneRequest(all));
            print(removed, l -> {
                long bytes = l.templates().stream().mapToLong(t -> Math.max(t.diskBytes(), 0)).sum();
                context.out().println("removed " + l.templates().size() + " template"
                        + (l.templates().size() == 1 ? "" : "s") + " (" + Sizes.formatBytes(bytes) + ")");
            });
            return BangerCli.EXIT_OK;
        }
    }

    static Output.Table table(TemplateList list) {
        Output.Table table = new Output.Table("ID", "IMAGE", "KERNEL", "VMM", "CPUS", "MEMORY", "DISK", "SIZE",
                "BOOT", "CREATED", "CURRENT");
        for (TemplateView t : list.templates()) {
            table.row(t.id().substring(0, 12), t.image(), t.kernel(), t.vmm(), Integer.toString(t.cpus()),
                    t.memoryMib() + "M", t.workDiskMib() + "M", t.diskBytes() < 0 ? "?" : Sizes.formatBytes(t.diskBytes()),
                    String.format(Locale.ROOT, "%.1fs", t.bootMillis() / 1000.0), t.createdAt(),
                    t.current() ? "yes" : "no (prune removes it)");
        }
        return table;
    }
}
