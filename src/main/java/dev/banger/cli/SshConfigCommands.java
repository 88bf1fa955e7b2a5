package dev.banger.cli;

import dev.banger.config.BangerInstall;
import dev.banger.ssh.SshClientConfig;
import dev.banger.ssh.UserKey;
import dev.banger.ssh.UserSshConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "ssh-config", description = "Manage the Include block in ~/.ssh/config that makes 'ssh NAME.vm' work.")
final class SshConfigCommands extends HelpOption {

    static final CommandGroup GROUP = CommandGroup.of(SshConfigCommands.class, Install.class, Uninstall.class,
            Show.class);

    @Command(name = "install",
            description = "Write banger's ssh config for *.vm and include it at the top of ~/.ssh/config (idempotent).")
    static final class Install extends Base {
        @Option(names = "--config", paramLabel = "FILE", description = "The ssh config to edit (default: ~/.ssh/config).")
        Path file;

        Install(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            Path target = file != null ? file : UserSshConfig.defaultFile();
            UserKey.ensure(context.paths());
            Path included = SshClientConfig.write(context.paths(), BangerInstall.cliLauncher(), System.getenv());
            UserSshConfig.Outcome outcome = UserSshConfig.install(target, included);
            context.out().println(switch (outcome) {
                case INSTALLED -> "installed: " + target + " includes " + included;
                case UPDATED -> "updated: " + target + " includes " + included;
                default -> "already installed: " + target + " includes " + included;
            });
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "uninstall", description = "Remove banger's block from ~/.ssh/config, nothing else.")
    static final class Uninstall extends Base {
        @Option(names = "--config", paramLabel = "FILE", description = "The ssh config to edit (default: ~/.ssh/config).")
        Path file;

        Uninstall(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            Path target = file != null ? file : UserSshConfig.defaultFile();
            UserSshConfig.Outcome outcome = UserSshConfig.uninstall(target);
            context.out().println(outcome == UserSshConfig.Outcome.REMOVED ? "removed banger's block from " + target
                    : "nothing to remove: " + target + " has no banger block");
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "show", description = "Print banger's ssh config for *.vm and whether ~/.ssh/config includes it.")
    static final class Show extends ResultCommand {
        @Option(names = "--config", paramLabel = "FILE", description = "The ssh config to check (default: ~/.ssh/config).")
        Path file;

        Show(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            Path target = file != null ? file : UserSshConfig.defaultFile();
            String text = SshClientConfig.render(context.paths(), BangerInstall.cliLauncher(), System.getenv());
            boolean installed = UserSshConfig.installed(target);
            Map<String, Object> view = new LinkedHashMap<>();
            view.put("file", context.paths().sshClientConfig().toString());
            view.put("userConfig", target.toString());
            view.put("installed", installed);
            view.put("config", text);
            print(view, v -> {
                context.out().print(text);
                context.out().flush();
                if (!installed) {
                    context.err().println("note: " + target + " does not include it yet; run: banger ssh-config "
                            + "install");
                }
            });
            return BangerCli.EXIT_OK;
        }
    }
}
