package dev.banger.cli;

import dev.banger.api.Api;
import dev.banger.api.Event;
import dev.banger.api.WorkspaceExportRequest;
import dev.banger.api.WorkspaceExportResult;
import dev.banger.host.CommandResult;
import dev.banger.host.ProcessCommandRunner;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "workspace", description = "The git workspace inside a VM.")
final class WorkspaceCommands extends HelpOption {

    static final CommandGroup GROUP = CommandGroup.of(WorkspaceCommands.class, Export.class);

    @Command(name = "export",
            description = "Bring the guest repository's commits back into the host repository as a branch.")
    static final class Export extends Base {
        @Parameters(paramLabel = "NAME", description = "The VM.")
        String vm;
        @Option(names = "--branch", paramLabel = "B", description = "Branch to create or update (default: banger/NAME).")
        String branch;
        @Option(names = "--uncommitted", description = "Also bring the guest's uncommitted changes, as one commit on top.")
        boolean uncommitted;
        @Option(names = "--path", paramLabel = "DIR", description = "The repository in the guest (default: /root/ + this "
                + "repository's directory name, where vm run put it).")
        String guestPath;

        Export(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() throws IOException {
            Path top = Path.of(git(Path.of(""), "rev-parse", "--show-toplevel").orElseThrow(() ->
                    new IllegalArgumentException("not in a git repository: run workspace export in the repository "
                            + "the VM was started from")));
            String target = branch != null ? branch : "banger/" + vm;
            if (git(top, "check-ref-format", "--branch", target).isEmpty()) {
                throw new IllegalArgumentException("'" + target + "' is not a valid branch name");
            }
            if (git(top, "symbolic-ref", "-q", "--short", "HEAD").filter(target::equals).isPresent()) {
                throw new IllegalArgumentException("'" + target + "' is the branch checked out here; export to "
                        + "another one (--branch) so your working tree is never touched");
            }
            String path = guestPath != null ? guestPath : "/root/" + top.getFileName();
            Path bundle = Files.createTempFile("banger-export-", ".bundle");
            try {
                WorkspaceExportResult result;
                try (OutputStream out = Files.newOutputStream(bundle)) {
                    result = context.call(Api.WORKSPACE_EXPORT, new WorkspaceExportRequest(vm, path, uncommitted),
                            event -> {
                                if (event instanceof Event.Output o) {
                                    try {
                                        out.write(o.data());
                                    } catch (IOException e) {
                                        throw new UncheckedIOException(e);
                                    }
                                }
                            });
                }
                if (git(top, "fetch", "-q", bundle.toString(), "+" + result.ref() + ":refs/heads/" + target)
                        .isEmpty()) {
                    throw new IllegalStateException("git fetch from the exported bundle failed in " + top);
                }
                String ahead = git(top, "rev-list", "--count", "HEAD.." + target).orElse("?");
                context.out().println(target + " -> " + result.commit().substring(0, Math.min(12,
                        result.commit().length())) + " (" + ahead + " commits not on your current branch)");
                return BangerCli.EXIT_OK;
            } finally {
                Files.deleteIfExists(bundle);
            }
        }

        /** Runs git in {@code dir}; its trimmed output, or empty when it failed. */
        private static Optional<String> git(Path dir, String... args) {
            List<String> argv = new ArrayList<>(List.of("git", "-C", dir.toAbsolutePath().toString()));
            argv.addAll(List.of(args));
            CommandResult result = new ProcessCommandRunner().run(dev.banger.host.Command.of(argv).allowingFailure());
            return result.succeeded() ? Optional.of(result.stdoutText().strip()) : Optional.empty();
        }
    }
}
