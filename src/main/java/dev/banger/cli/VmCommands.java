package dev.banger.cli;

import dev.banger.api.Api;
import dev.banger.api.Empty;
import dev.banger.api.Event;
import dev.banger.api.OperationRef;
import dev.banger.api.ExecResult;
import dev.banger.api.VmConnectRequest;
import dev.banger.api.PortList;
import dev.banger.api.PortView;
import dev.banger.api.VmCreateRequest;
import dev.banger.api.VmDeleteRequest;
import dev.banger.api.VmDeleteResult;
import dev.banger.api.VmExecRequest;
import dev.banger.api.VmList;
import dev.banger.api.VmLogsRequest;
import dev.banger.api.VmRef;
import dev.banger.api.VmRunRequest;
import dev.banger.api.VmRunResult;
import dev.banger.api.VmSetRequest;
import dev.banger.api.VmStats;
import dev.banger.api.VmStopRequest;
import dev.banger.api.VmView;
import dev.banger.model.Sizes;
import dev.banger.rpc.RpcClient;
import dev.banger.ssh.ProxyPump;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "vm", description = "Create, run and manage microVMs.")
final class VmCommands extends HelpOption {

    static final CommandGroup GROUP = CommandGroup.of(VmCommands.class, Run.class, Create.class, Start.class,
            Stop.class, Resume.class, Restart.class, Delete.class, ListVms.class, Show.class, SetResources.class,
            Exec.class, Ssh.class, SshProxy.class, Logs.class, Stats.class, Ports.class, Copy.class);

    static final String COLD_HELP = "Boot the kernel even when a template could restore the VM in a fraction "
            + "of the time (see docs/snapshots.md).";
    static final String VMM_HELP = "firecracker or qemu (default: defaultVmm in the daemon's config, else "
            + "Firecracker where KVM is usable, firecracker is installed and the kernel is an ELF vmlinux, else "
            + "QEMU; banger doctor says which).";

    @Command(name = "create", description = "Provision disks and network for a new VM and boot it.")
    static final class Create extends ResultCommand {
        @Parameters(paramLabel = "NAME", arity = "0..1", description = "VM name (a DNS label: a-z, 0-9, '-').")
        String name;
        @Option(names = "--attach", paramLabel = "OP", description = "Follow a create in progress (its id is the "
                + "first line a create prints) instead of starting one.")
        String attach;
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;
        @Option(names = "--image", paramLabel = "IMAGE", description = "Image to boot (default: the default image).")
        String image;
        @Option(names = "--kernel", paramLabel = "KERNEL", description = "Kernel to boot (default: the default kernel).")
        String kernel;
        @Option(names = "--cpus", paramLabel = "N", description = "Virtual CPUs.")
        Integer cpus;
        @Option(names = "--memory", paramLabel = "SIZE", description = "Memory, e.g. 512M or 2G.")
        String memory;
        @Option(names = "--disk", paramLabel = "SIZE", description = "Work disk size (mounted at /root), e.g. 8G.")
        String disk;
        @Option(names = "--vmm", paramLabel = "VMM", description = VMM_HELP)
        String vmm;
        @Option(names = "--no-start", description = "Record and provision the VM without booting it.")
        boolean noStart;

        @Option(names = "--cold", description = COLD_HELP)
        boolean cold;

        Create(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            ProgressPrinter progress = new ProgressPrinter(context.err());
            VmView vm;
            if (attach != null) {
                if (name != null) {
                    throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                            "give either NAME (a new VM) or --attach OP, not both");
                }
                vm = context.call(Api.VM_ATTACH, new OperationRef(attach), progress);
            } else {
                if (name == null) {
                    throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                            "Missing required parameter: 'NAME' (or --attach OP)");
                }
                VmCreateRequest request = new VmCreateRequest(name, image, kernel, cpus,
                        memory == null ? null : Math.toIntExact(Sizes.parseMib("--memory", memory)),
                        disk == null ? null : Sizes.parseMib("--disk", disk), vmm, noStart, cold);
                vm = context.call(Api.VM_CREATE, request, progress);
            }
            progress.finish();
            print(vm, v -> context.out().println(v.name() + " " + v.state()));
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "start", description = "Boot a stopped VM.")
    static final class Start extends Base {
        @Parameters(paramLabel = "NAME", description = "The VM.")
        String name;

        Start(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            ProgressPrinter progress = new ProgressPrinter(context.err());
            VmView vm = context.call(Api.VM_START, new VmRef(name), progress);
            progress.finish();
            context.out().println(vm.name() + " " + vm.state());
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "stop", description = "Power a VM off gracefully (guest poweroff, then kill after a timeout).")
    static final class Stop extends Base {
        @Parameters(paramLabel = "NAME", description = "The VM.")
        String name;
        @Option(names = "--force", description = "Kill the VMM without waiting for the guest.")
        boolean force;

        Stop(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            VmView vm = context.call(Api.VM_STOP, new VmStopRequest(name, force), new ProgressPrinter(context.err()));
            context.out().println(vm.name() + " " + vm.state());
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "resume", description = {"Resume a VM whose guest its VMM paused (a full host disk, an I/O "
            + "error).", "A guest paused by a full disk resumes by itself once space is free again; resuming it "
            + "before then pauses it again at its next write."})
    static final class Resume extends Base {
        @Parameters(paramLabel = "NAME", description = "The VM.")
        String name;

        Resume(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            VmView vm = context.call(Api.VM_RESUME, new VmRef(name));
            context.out().println(vm.name() + " " + stateOf(vm));
            return BangerCli.EXIT_OK;
        }
    }

    /** The state as tables and one-line results show it: {@code paused: host disk full} while paused. */
    static String stateOf(VmView vm) {
        return vm.pauseReason() == null ? vm.state() : vm.state() + ": " + vm.pauseReason();
    }

    @Command(name = "restart", description = "Stop and start a VM.")
    static final class Restart extends Base {
        @Parameters(paramLabel = "NAME", description = "The VM.")
        String name;
        @Option(names = "--force", description = "Kill the VMM without waiting for the guest.")
        boolean force;

        Restart(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            ProgressPrinter progress = new ProgressPrinter(context.err());
            VmView vm = context.call(Api.VM_RESTART, new VmStopRequest(name, force), progress);
            progress.finish();
            context.out().println(vm.name() + " " + vm.state());
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "delete", aliases = "rm",
            description = "Tear down every host resource of the VMs and remove their files and records.")
    static final class Delete extends Base {
        @Parameters(paramLabel = "NAME", arity = "1..*", description = "The VMs.")
        List<String> names;
        @Option(names = "--force", description = "Stop running VMs first instead of refusing.")
        boolean force;

        Delete(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            VmDeleteResult result = context.call(Api.VM_DELETE, new VmDeleteRequest(names, force));
            for (String name : result.deleted()) {
                context.out().println("deleted " + name);
            }
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "list", aliases = "ls", description = "List VMs.")
    static final class ListVms extends ResultCommand {

        ListVms(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            VmList list = context.call(Api.VM_LIST, Empty.INSTANCE);
            print(list, l -> {
                Output.Table table = new Output.Table("NAME", "STATE", "VMM", "IMAGE", "IP", "CPUS", "MEMORY",
                        "DISK");
                for (VmView vm : l.vms()) {
                    table.row(vm.name(), stateOf(vm), vm.vmm(), vm.image(), vm.guestIp(), vm.cpus(),
                            Sizes.formatMib(vm.memoryMib()), Sizes.formatMib(vm.diskMib()));
                }
                table.print(context.out());
            });
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "show", description = "Show a VM: state, IP, DNS name, image, kernel, resources, last error.")
    static final class Show extends ResultCommand {
        @Parameters(paramLabel = "NAME", description = "The VM.")
        String name;

        Show(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            VmView vm = context.call(Api.VM_SHOW, new VmRef(name));
            print(vm, v -> new Output.Fields().add("name", v.name()).add("id", v.id()).add("state", v.state())
                    .add("paused", v.pauseReason() == null ? null : v.pauseReason() + ": " + v.pauseDetail())
                    .add("vmm", v.vmm()).add("image", v.image()).add("kernel", v.kernel()).add("cpus", v.cpus())
                    .add("memory", Sizes.formatMib(v.memoryMib())).add("disk", Sizes.formatMib(v.diskMib()))
                    .add("ip", v.guestIp()).add("dns", v.dnsName()).add("pid", v.pid()).add("dir", v.vmDir())
                    .add("log", v.logPath()).add("created", v.createdAt()).add("updated", v.updatedAt())
                    .add("last error", v.lastError()).add("operation", v.operation()).add("started", v.started()).print(context.out()));
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "set", description = "Change a VM's resources: cpus and memory while stopped; the disk can only grow.")
    static final class SetResources extends Base {
        @Parameters(paramLabel = "NAME", description = "The VM.")
        String name;
        @Option(names = "--cpus", paramLabel = "N", description = "vCPUs (default: the daemon's defaultCpus).")
        Integer cpus;
        @Option(names = "--memory", paramLabel = "SIZE",
                description = "Memory, e.g. 512M or 2G (default: the daemon's defaultMemoryMib).")
        String memory;
        @Option(names = "--disk", paramLabel = "SIZE",
                description = "Work disk size; it can only grow (resize2fs, VM stopped).")
        String disk;

        SetResources(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            VmView vm = context.call(Api.VM_SET, new VmSetRequest(name, cpus,
                    memory == null ? null : Math.toIntExact(Sizes.parseMib("--memory", memory)),
                    disk == null ? null : Sizes.parseMib("--disk", disk)));
            context.out().println(vm.name() + ": " + vm.cpus() + " cpus, " + Sizes.formatMib(vm.memoryMib())
                    + " memory, " + Sizes.formatMib(vm.diskMib()) + " disk");
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "run",
            description = "Create and start a VM, copy the current git workspace in, run CMD there and return its exit code.")
    static final class Run extends Base {
        @Option(names = "--name", paramLabel = "NAME", description = "VM name (default: generated).")
        String name;
        @Option(names = "--image", paramLabel = "IMAGE",
                description = "Image to boot (default: the default image, see: banger image default).")
        String image;
        @Option(names = "--kernel", paramLabel = "KERNEL",
                description = "Kernel to boot (default: the default kernel).")
        String kernel;
        @Option(names = "--cpus", paramLabel = "N", description = "vCPUs (default: the daemon's defaultCpus).")
        Integer cpus;
        @Option(names = "--memory", paramLabel = "SIZE",
                description = "Memory, e.g. 512M or 2G (default: the daemon's defaultMemoryMib).")
        String memory;
        @Option(names = "--disk", paramLabel = "SIZE", description = "Work disk size, e.g. 8G.")
        String disk;
        @Option(names = "--vmm", paramLabel = "VMM", description = VMM_HELP)
        String vmm;

        @Option(names = "--cold", description = COLD_HELP)
        boolean cold;
        @Option(names = "--rm", description = "Delete the VM afterwards, whatever happened.")
        boolean rm;
        @Option(names = "--no-workspace", description = "Do not copy the git workspace in.")
        boolean noWorkspace;
        @Option(names = "--workdir", paramLabel = "DIR", description = "Directory to run CMD in.")
        String workdir;
        @Parameters(paramLabel = "CMD", arity = "1..*", description = "Command to run (after --).")
        List<String> command;

        Run(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            boolean tty = Terminal.interactive();
            int[] size = tty ? Terminal.size().orElse(new int[] {24, 80}) : new int[] {0, 0};
            String workspace = noWorkspace ? null : java.nio.file.Path.of("").toAbsolutePath().toString();
            VmRunRequest request = new VmRunRequest(name, image, kernel, cpus,
                    memory == null ? null : Math.toIntExact(Sizes.parseMib("--memory", memory)),
                    disk == null ? null : Sizes.parseMib("--disk", disk), vmm, rm, workspace, workdir, command, null,
                    tty, size[0], size[1], tty || !Terminal.stdinIsTerminal(), cold);
            return ExecSession.run(context, Api.VM_RUN, request, tty, request.stdin(), VmRunResult::exitCode);
        }
    }

    @Command(name = "exec", description = "Run a command in a running VM through the guest agent.")
    static final class Exec extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "The VM.")
        String name;
        @Option(names = {"-i", "--interactive"}, description = "Pass stdin to the command.")
        boolean interactive;
        @Option(names = {"-t", "--tty"}, description = "Allocate a terminal.")
        boolean tty;
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD", description = "Command (after --).")
        List<String> command;

        Exec(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            int[] size = tty ? Terminal.size().orElse(new int[] {24, 80}) : new int[] {0, 0};
            return ExecSession.run(context, Api.VM_EXEC, new VmExecRequest(name, command, null, null, tty, size[0],
                    size[1], interactive), tty, interactive, ExecResult::exitCode);
        }
    }

    @Command(name = "ssh", description = "OpenSSH session into the VM with banger's key and pinned host key.")
    static final class Ssh extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "The VM.")
        String name;
        @Parameters(index = "1..*", arity = "0..*", paramLabel = "CMD",
                description = "Command to run instead of a login shell (after --).")
        List<String> command;

        Ssh(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            return SshSession.run(context, name, command == null ? List.of() : command);
        }
    }

    @Command(name = "ssh-proxy", hidden = true,
            description = "ssh's ProxyCommand for NAME.vm: stdin/stdout joined to the guest's port 22 via bangerd.")
    static final class SshProxy extends Base {
        @Parameters(paramLabel = "HOST", description = "NAME or NAME.vm (ssh's %h).")
        String host;
        @Option(names = "--port", paramLabel = "PORT", description = "Guest TCP port (default 22).")
        Integer port;

        SshProxy(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            VmConnectRequest request = new VmConnectRequest(ProxyPump.vmNameOf(host), port);
            try (RpcClient.OpenCall<Empty> call = context.open(Api.VM_CONNECT, request)) {
                ProxyPump.run(call, System.in, new FileOutputStream(FileDescriptor.out));
            }
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "logs", description = "Print the VM's serial console log.")
    static final class Logs extends Base {
        @Parameters(paramLabel = "NAME", description = "The VM.")
        String name;
        @Option(names = {"-f", "--follow"}, description = "Keep printing new output.")
        boolean follow;

        Logs(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            context.call(Api.VM_LOGS, new VmLogsRequest(name, follow), event -> {
                if (event instanceof Event.Output o) {
                    System.out.write(o.data(), 0, o.data().length);
                    System.out.flush();
                }
            });
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "stats", description = "CPU, memory, disk and network use of the VM.")
    static final class Stats extends ResultCommand {
        @Parameters(paramLabel = "NAME", description = "The VM.")
        String name;
        @Option(names = "--watch", description = "Refresh every second.")
        boolean watch;

        Stats(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() throws InterruptedException {
            Output.Table header = new Output.Table("NAME", "STATE", "CPU%", "VMM RSS", "GUEST MEM", "DISK", "NET RX",
                    "NET TX").minWidth(STATS_WIDTH);
            boolean first = true;
            do {
                VmStats s = context.call(Api.VM_STATS, new VmRef(name));
                boolean withHeader = first;
                print(s, v -> {
                    Output.Table table = withHeader ? header : new Output.Table().minWidth(STATS_WIDTH);
                    String guestMem = v.guestMemTotalBytes() < 0 ? null
                            : bytes(v.guestMemTotalBytes() - v.guestMemAvailableBytes()) + "/"
                                    + bytes(v.guestMemTotalBytes());
                    table.row(v.name(), v.state(), v.cpuPercent() < 0 ? null : v.cpuPercent(), bytes(v.vmmRssBytes()),
                            guestMem, bytes(v.diskBytes()), bytes(v.netRxBytes()), bytes(v.netTxBytes()));
                    table.print(context.out(), withHeader);
                });
                context.out().flush();
                first = false;
                if (watch) {
                    Thread.sleep(1000);
                }
            } while (watch);
            return BangerCli.EXIT_OK;
        }

        private static final int STATS_WIDTH = 9;

        private static String bytes(long value) {
            return value < 0 ? null : ProgressPrinter.human(value);
        }
    }

    @Command(name = "ports", description = "TCP/UDP ports listening in the guest.")
    static final class Ports extends ResultCommand {
        @Parameters(paramLabel = "NAME", description = "The VM.")
        String name;

        Ports(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            PortList list = context.call(Api.VM_PORTS, new VmRef(name));
            print(list, l -> {
                Output.Table table = new Output.Table("PROTO", "ADDRESS", "PORT", "PID", "COMMAND");
                for (PortView p : l.ports()) {
                    table.row(p.protocol(), p.address(), p.port(), p.pid(), p.command());
                }
                table.print(context.out());
            });
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "cp", description = {"Copy files into or out of a VM; name the VM side NAME:/path.",
        "Directories are copied recursively with modes (set-id and sticky bits too), times, symlinks and FIFOs. Into an existing directory the source "
            + "lands inside it; otherwise it is created as DST. SRC ending in /. copies a directory's contents."})
    static final class Copy extends Base {
        @Parameters(index = "0", paramLabel = "SRC", description = "A local path or NAME:/path.")
        String source;
        @Parameters(index = "1", paramLabel = "DST", description = "A local path or NAME:/path.")
        String destination;
        @Option(names = {"-a", "--archive"},
                description = "Keep numeric owners also when not root (as root they are always kept, as with cp -a; "
                        + "otherwise files in the VM are root's, local ones yours, without set-id bits).")
        boolean archive;

        Copy(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            return CopySession.run(context, source, destination, archive);
        }
    }
}
