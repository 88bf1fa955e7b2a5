package dev.banger.cli;

import dev.banger.api.Api;
import dev.banger.api.BangerException;
import dev.banger.api.ExecResult;
import dev.banger.api.VmExecRequest;
import dev.banger.api.VmRef;
import dev.banger.api.VmView;
import dev.banger.host.Executables;
import dev.banger.ssh.SshCommandLine;
import dev.banger.ssh.UserKey;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import sun.misc.Signal;

/**
 * {@code banger vm ssh}: the system OpenSSH client with banger's key and pinned known_hosts, straight to the
 * guest's IP. A guest image without sshd gets a shell through the guest agent instead, with one line saying so.
 */
final class SshSession {

    static final String GUEST_SSHD = "/usr/sbin/sshd";

    private SshSession() {
    }

    static int run(CliContext context, String name, List<String> command) {
        VmView vm = context.call(Api.VM_SHOW, new VmRef(name));
        if (!"running".equals(vm.state())) {
            throw BangerException.conflict("VM '" + name + "' is not running (state " + vm.state()
                    + "); start it with: banger vm start " + name);
        }
        // Before the probe: the daemon makes the guest trust banger's current key whenever the agent is used, so
        // a key made just now (the first vm ssh after a rotation) is authorized before ssh runs.
        UserKey.ensure(context.paths());
        if (!guestHasSshd(context, name)) {
            context.err().println("banger: VM '" + name + "' has no sshd (" + GUEST_SSHD + "); using a shell "
                    + "through the guest agent instead");
            context.err().flush();
            boolean tty = Terminal.interactive();
            int[] size = tty ? Terminal.size().orElse(new int[] {24, 80}) : new int[] {0, 0};
            List<String> argv = command.isEmpty() ? List.of("/bin/sh", "-l")
                    : List.of("/bin/sh", "-c", String.join(" ", command)); // As sshd runs a command.
            return ExecSession.run(context, Api.VM_EXEC, new VmExecRequest(name, argv, null, null, tty, size[0],
                    size[1], true), tty, true, ExecResult::exitCode);
        }
        Path ssh = Executables.fromEnvironment().find("ssh").orElseThrow(() -> BangerException.failedPrecondition(
                "ssh not found on PATH; install the OpenSSH client (apt-get install openssh-client)"));
        List<String> argv = SshCommandLine.forVm(ssh.toString(), context.paths(), vm.guestIp(), command,
                command.isEmpty());
        try {
            Process process = new ProcessBuilder(argv).inheritIO().start();
            Signal.handle(new Signal("INT"), s -> { }); // ^C belongs to ssh (it is in our process group).
            return process.waitFor();
        } catch (IOException e) {
            throw BangerException.unavailable("cannot run " + ssh + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return BangerCli.EXIT_ERROR;
        }
    }

    /** Asks the guest (through its agent) whether its image has sshd; no answer counts as no. */
    private static boolean guestHasSshd(CliContext context, String name) {
        try {
            ExecResult probe = context.call(Api.VM_EXEC, new VmExecRequest(name, List.of("test", "-x", GUEST_SSHD),
                    null, null, false, 0, 0, false));
            return probe.exitCode() == 0;
        } catch (BangerException e) {
            if (e.code() == dev.banger.api.ErrorCode.INVALID_ARGUMENT) {
                return false; // The image has no 'test' either: certainly no sshd.
            }
            throw e;
        }
    }
}
