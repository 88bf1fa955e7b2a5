package dev.banger.cli;

import picocli.CommandLine.Command;

@Command(name = "ssh-config", description = "Manage the Include block in ~/.ssh/config that makes 'ssh NAME.vm' work.")
final class SshConfigCommands extends HelpOption {

    static final CommandGroup GROUP = CommandGroup.of(SshConfigCommands.class, Install.class, Uninstall.class,
            Show.class);

    @Command(name = "install", description = "Add banger's Include block (idempotent).")
    static final class Install extends Base {
        Install(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            throw NotImplementedYet.command("ssh-config install", 6);
        }
    }

    @Command(name = "uninstall", description = "Remove banger's block, nothing else.")
    static final class Uninstall extends Base {
        Uninstall(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            throw NotImplementedYet.command("ssh-config uninstall", 6);
        }
    }

    @Command(name = "show", description = "Print banger's ssh config for *.vm.")
    static final class Show extends Base {
        Show(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            throw NotImplementedYet.command("ssh-config show", 6);
        }
    }
}
