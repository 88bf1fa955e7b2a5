package dev.banger.cli;

import dev.banger.api.Api;
import dev.banger.api.Empty;
import dev.banger.api.KernelImportRequest;
import dev.banger.api.KernelList;
import dev.banger.api.KernelPullRequest;
import dev.banger.api.KernelRef;
import dev.banger.api.KernelView;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "kernel", description = "Guest kernels.")
final class KernelCommands extends HelpOption {

    static final CommandGroup GROUP = CommandGroup.of(KernelCommands.class, ListKernels.class, Show.class,
            Pull.class, Import.class, Delete.class, MakeDefault.class);

    @Command(name = "list", aliases = "ls", description = "List kernels.")
    static final class ListKernels extends ResultCommand {

        ListKernels(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            KernelList list = context.call(Api.KERNEL_LIST, Empty.INSTANCE);
            print(list, l -> {
                Output.Table table = new Output.Table("NAME", "VERSION", "DEFAULT", "SOURCE", "USED BY");
                for (KernelView k : l.kernels()) {
                    table.row(k.name(), k.version(), k.isDefault() ? "*" : "", k.source(),
                            String.join(",", k.usedBy()));
                }
                table.print(context.out());
            });
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "show", description = "Show a kernel.")
    static final class Show extends ResultCommand {
        @Parameters(paramLabel = "NAME", description = "The kernel.")
        String name;

        Show(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            KernelView k = context.call(Api.KERNEL_SHOW, new KernelRef(name));
            print(k, v -> new Output.Fields().add("name", v.name()).add("version", v.version())
                    .add("default", v.isDefault()).add("source", v.source()).add("format", v.format())
                    .add("kernel", v.kernelPath())
                    .add("vmlinux", v.vmlinuxPath() == null ? "-" : v.vmlinuxPath()).add("modules", String.join(" ", v.modules()))
                    .add("created", v.createdAt()).add("used by", String.join(", ", v.usedBy()))
                    .print(context.out()));
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "pull", description = "Fetch a known kernel (on Debian/Ubuntu: the current linux-image-cloud-amd64).")
    static final class Pull extends Base {
        @Parameters(paramLabel = "NAME", arity = "0..1", description = "Name for it (default: from its version).")
        String name;
        @Option(names = "--default", description = "Make it the default kernel.")
        boolean makeDefault;

        Pull(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            ProgressPrinter progress = new ProgressPrinter(context.err());
            KernelView k = context.call(Api.KERNEL_PULL, new KernelPullRequest(name, makeDefault), progress);
            progress.finish();
            context.out().println(k.name() + " " + k.version() + (k.isDefault() ? " (default)" : ""));
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "import",
            description = "Import a vmlinux/bzImage (with an optional modules dir) or a Debian linux-image .deb.")
    static final class Import extends Base {
        @Parameters(paramLabel = "NAME", description = "The kernel.")
        String name;
        @Option(names = "--kernel", paramLabel = "FILE", description = "vmlinux or bzImage.")
        String kernel;
        @Option(names = "--modules", paramLabel = "DIR", description = "The kernel's lib/modules/VERSION directory.")
        String modules;
        @Option(names = "--deb", paramLabel = "FILE", description = "A Debian linux-image-*.deb.")
        String deb;
        @Option(names = "--default", description = "Make it the default kernel.")
        boolean makeDefault;

        Import(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            ProgressPrinter progress = new ProgressPrinter(context.err());
            KernelView k = context.call(Api.KERNEL_IMPORT, new KernelImportRequest(name, absolute(kernel),
                    absolute(modules), absolute(deb), makeDefault), progress);
            progress.finish();
            context.out().println(k.name() + " " + k.version() + (k.isDefault() ? " (default)" : ""));
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "delete", aliases = "rm", description = "Delete a kernel (refused while a VM uses it).")
    static final class Delete extends Base {
        @Parameters(paramLabel = "NAME", description = "The kernel.")
        String name;

        Delete(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            context.call(Api.KERNEL_DELETE, new KernelRef(name));
            context.out().println("deleted " + name);
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "default", description = "Make a kernel the default.")
    static final class MakeDefault extends Base {
        @Parameters(paramLabel = "NAME", description = "The kernel.")
        String name;

        MakeDefault(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            context.call(Api.KERNEL_DEFAULT, new KernelRef(name));
            context.out().println(name + " is the default kernel");
            return BangerCli.EXIT_OK;
        }
    }

    /** Paths go to the daemon, whose working directory is not the user's. */
    static String absolute(String path) {
        return path == null ? null : Path.of(path).toAbsolutePath().normalize().toString();
    }
}
