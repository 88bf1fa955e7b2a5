package dev.banger.doctor;

import dev.banger.api.Api;
import dev.banger.api.BangerException;
import dev.banger.api.DaemonStatus;
import dev.banger.api.Empty;
import dev.banger.api.KernelView;
import dev.banger.config.BangerInstall;
import dev.banger.config.BangerPaths;
import dev.banger.config.DaemonConfig;
import dev.banger.model.KernelFormat;
import dev.banger.model.VmmKind;
import dev.banger.vmm.VmmChooser;
import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import dev.banger.host.Executables;
import dev.banger.rpc.RpcClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Checks the host for what banger needs. Runs in the CLI process (it must work when the daemon cannot start)
 * and reads the host through a {@link HostProbe} so tests can present other hosts.
 */
public final class Doctor {

    static final long MIN_FREE_BYTES = 1L << 30;
    static final long WARN_FREE_BYTES = 5L << 30;

    private final HostProbe host;
    private final CommandRunner runner;
    private final BangerPaths paths;
    private final Path initBinary;
    private final boolean packaged;

    public Doctor(HostProbe host, CommandRunner runner, BangerPaths paths) {
        this(host, runner, paths, BangerInstall.initBinary(), BangerInstall.isPackage());
    }

    /**
     * @param initBinary where the daemon takes banger-init from ({@link BangerInstall#initBinary} but in tests)
     * @param packaged whether this is the Debian package
     */
    Doctor(HostProbe host, CommandRunner runner, BangerPaths paths, Path initBinary, boolean packaged) {
        this.host = host;
        this.runner = runner;
        this.paths = paths;
        this.initBinary = initBinary;
        this.packaged = packaged;
    }

    public List<CheckResult> run() {
        List<CheckResult> results = new ArrayList<>();
        InstallChecks install = new InstallChecks(host, runner);
        results.add(install.install());
        results.add(install.service());
        results.add(new GuestInitCheck(host, initBinary, packaged).run());
        Optional<Path> qemu = host.findProgram("qemu-system-x86_64");
        Optional<Path> firecracker = host.findProgram("firecracker");
        VmmChooser chooser = new VmmChooser(new VmmChooser.HostProfile(VmmChooser.Kvm.of(
                host.exists(VmmChooser.Kvm.PVM_MODULE), host.exists(VmmChooser.Kvm.DEVICE),
                host.canOpenReadWrite(VmmChooser.Kvm.DEVICE)), firecracker));
        results.add(kvm(chooser));
        results.add(vmm("qemu", qemu, "--version", firecracker.isEmpty(),
                "install QEMU: apt-get install qemu-system-x86 qemu-utils"));
        results.add(vmm("firecracker", firecracker, "--version", false,
                "only needed for Firecracker VMs on a KVM host: install the release binary from "
                        + "https://github.com/firecracker-microvm/firecracker/releases into PATH"));
        results.add(newVmVmm(chooser));
        results.add(program("qemu-img", "qemu-img", true, "apt-get install qemu-utils"));
        results.add(program("ip", "ip", true, "apt-get install iproute2"));
        results.add(deviceNode("tun", Path.of("/dev/net/tun"), true, "load the tun module: modprobe tun"));
        results.add(deviceNode("loop", Path.of("/dev/loop-control"), false, "load the loop module: modprobe loop"));
        results.add(deviceMapper());
        results.add(e2fsprogs());
        results.add(diskSpace());
        results.add(daemon());
        results.add(new NatCheck(host, runner, paths).run());
        results.addAll(new DnsChecks(host, paths).run());
        return results;
    }

    /** True when no required check failed. */
    public static boolean healthy(List<CheckResult> results) {
        return results.stream().noneMatch(r -> r.status() == CheckResult.Status.FAIL && r.required());
    }

    /**
     * The one KVM line: what KVM is here and what guests run under because of it, in the words of the VMM choice
     * ({@link VmmChooser#kvmUse}), so it agrees with what {@code vm create} picks.
     */
    private CheckResult kvm(VmmChooser chooser) {
        VmmChooser.Kvm kvm = chooser.host().kvm();
        String detail = chooser.kvmUse();
        return switch (kvm) {
            case USABLE -> CheckResult.pass("kvm", detail);
            case ABSENT -> CheckResult.warn("kvm", detail, "for KVM speed: turn on virtualisation in the firmware "
                    + "and load kvm_intel or kvm_amd (in a VM: turn on nested virtualisation); nothing to do to "
                    + "keep using TCG");
            case NO_ACCESS -> CheckResult.warn("kvm", detail, "let the user bangerd runs as open "
                    + VmmChooser.Kvm.DEVICE + ": usermod -aG kvm " + System.getProperty("user.name")
                    + " (then log in again), or run bangerd as root; ls -l " + VmmChooser.Kvm.DEVICE
                    + " shows its group");
            case PVM_ONLY -> CheckResult.warn("kvm", detail, "nothing to do; for KVM speed use a host whose KVM "
                    + "is kvm_intel or kvm_amd");
        };
    }

    private CheckResult vmm(String name, Optional<Path> program, String versionFlag, boolean required, String fix) {
        if (program.isEmpty()) {
            return required ? CheckResult.fail(name, name + " not found on PATH", fix, true)
                    : CheckResult.warn(name, name + " not found on PATH", fix);
        }
        return CheckResult.pass(name, program.get() + " (" + version(program.get(), versionFlag) + ")");
    }

    /** Which VMM a VM created without {@code --vmm} gets here, and why (the daemon decides the same way). */
    private CheckResult newVmVmm(VmmChooser chooser) {
        Optional<VmmKind> configured;
        try {
            configured = DaemonConfig.load(paths.configFile()).vmmOverride();
        } catch (IllegalArgumentException e) {
            return CheckResult.fail("vmm", e.getMessage(), "set \"defaultVmm\" in " + paths.configFile()
                    + " to auto, qemu or firecracker", true);
        }
        VmmChooser.Choice choice = chooser.choose(null, configured, this::defaultKernelFormat);
        VmmChooser.HostProfile here = chooser.host();
        if (choice.kind() == VmmKind.FIRECRACKER && !here.kvm().runsOrdinaryGuests()) {
            return CheckResult.warn("vmm", "new VMs: " + choice.reason() + ", but " + here.kvm().fact()
                    + " and Firecracker needs KVM: they will not start", "set \"defaultVmm\" in "
                    + paths.configFile() + " to auto or qemu, or use --vmm qemu");
        }
        if (choice.kind() == VmmKind.FIRECRACKER && here.firecracker().isEmpty()) {
            return CheckResult.warn("vmm", "new VMs: " + choice.reason() + ", but firecracker is not installed: "
                    + "they will not start", "install it (docs/firecracker.md), or set \"defaultVmm\" in "
                    + paths.configFile() + " to auto or qemu");
        }
        return CheckResult.pass("vmm", "new VMs: " + choice.reason());
    }

    /**
     * The format of the kernel a VM created without {@code --kernel} boots: the running daemon's default kernel; a
     * daemon with no kernel pulls Debian's cloud kernel, a bzImage. Null when no daemon answers.
     */
    private KernelFormat defaultKernelFormat() {
        try {
            List<KernelView> kernels = new RpcClient(paths.socket()).call(Api.KERNEL_LIST, Empty.INSTANCE).kernels();
            if (kernels.isEmpty()) {
                return KernelFormat.BZIMAGE;
            }
            return kernels.stream().filter(KernelView::isDefault).findFirst()
                    .map(k -> KernelFormat.valueOf(k.format().toUpperCase(java.util.Locale.ROOT))).orElse(null);
        } catch (BangerException | IllegalArgumentException e) {
            return null;
        }
    }

    private CheckResult program(String check, String name, boolean required, String fix) {
        Optional<Path> program = host.findProgram(name);
        if (program.isEmpty()) {
            return required ? CheckResult.fail(check, name + " not found", fix, true)
                    : CheckResult.warn(check, name + " not found", fix);
        }
        return CheckResult.pass(check, program.get().toString());
    }

    private CheckResult deviceNode(String check, Path node, boolean required, String fix) {
        if (!host.exists(node)) {
            return required ? CheckResult.fail(check, node + " is absent", fix, true)
                    : CheckResult.warn(check, node + " is absent", fix);
        }
        return CheckResult.pass(check, node + " present");
    }

    private CheckResult deviceMapper() {
        boolean loaded = host.readFile(Path.of("/proc/misc")).map(s -> s.contains("device-mapper")).orElse(false);
        if (loaded) {
            return CheckResult.pass("device-mapper", "available (device-mapper in /proc/misc)");
        }
        String detail = host.exists(Path.of("/dev/mapper/control"))
                ? "absent: /dev/mapper/control exists but the kernel lists no device-mapper in /proc/misc"
                : "absent (not in /proc/misc)";
        return CheckResult.warn("device-mapper", detail,
                "copy-on-write root disks use qcow2 overlays (QEMU) instead; for Firecracker: modprobe dm_snapshot");
    }

    private CheckResult e2fsprogs() {
        List<String> missing = new ArrayList<>();
        for (String tool : List.of("mkfs.ext4", "resize2fs", "debugfs", "e2fsck")) {
            if (host.findProgram(tool).isEmpty()) {
                missing.add(tool);
            }
        }
        if (!missing.isEmpty()) {
            return CheckResult.fail("e2fsprogs", "missing " + String.join(", ", missing),
                    "apt-get install e2fsprogs", true);
        }
        return CheckResult.pass("e2fsprogs", "mkfs.ext4, resize2fs, debugfs, e2fsck found");
    }

    private CheckResult diskSpace() {
        Path dir = paths.stateDir();
        while (dir != null && !host.exists(dir)) {
            dir = dir.getParent();
        }
        if (dir == null) {
            return CheckResult.warn("disk", "cannot find the file system of " + paths.stateDir(), "check the path");
        }
        long free = host.usableSpace(dir);
        String detail = humanBytes(free) + " free for " + paths.stateDir();
        if (free < MIN_FREE_BYTES) {
            return CheckResult.fail("disk", detail, "free space on that file system or set BANGER_HOME elsewhere",
                    true);
        }
        if (free < WARN_FREE_BYTES) {
            return CheckResult.warn("disk", detail, "images and VM disks need a few GiB; free some space");
        }
        return CheckResult.pass("disk", detail);
    }

    private CheckResult daemon() {
        try {
            DaemonStatus status = new RpcClient(paths.socket()).call(Api.DAEMON_STATUS, Empty.INSTANCE);
            String running = "bangerd " + status.version() + " running (pid " + status.pid() + ") on "
                    + paths.socket();
            if (!DaemonConfig.fingerprint(paths.configFile()).equals(status.configFingerprint())) {
                return CheckResult.warn("daemon", running + ", but " + paths.configFile()
                        + " changed since it started", DaemonConfig.RESTART_TO_APPLY);
            }
            return CheckResult.pass("daemon", running);
        } catch (BangerException e) {
            return CheckResult.warn("daemon", "not running (" + paths.socket() + ")",
                    "nothing to do: it starts on first use (or: banger daemon start)");
        }
    }

    private String version(Path program, String flag) {
        try {
            String out = runner.run(Command.of(program.toString(), flag).withTimeout(Duration.ofSeconds(10)))
                    .stdoutText().strip();
            return out.lines().findFirst().orElse("unknown version");
        } catch (CommandFailedException e) {
            return "version unknown: " + e.getMessage();
        }
    }

    static String humanBytes(long bytes) {
        double value = bytes;
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int unit = 0;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? bytes + " B" : String.format("%.1f %s", value, units[unit]);
    }

    /** How the doctor sees the host; {@link #real()} is the machine it runs on. */
    public interface HostProbe {
        boolean exists(Path path);

        boolean canOpenReadWrite(Path path);

        Optional<String> readFile(Path path);

        Optional<Path> findProgram(String name);

        /** Up to {@code bytes} bytes from the start of a file, or empty when it cannot be read. */
        Optional<byte[]> readHead(Path path, int bytes);

        /** Whether this user may execute the file. */
        boolean isExecutable(Path path);

        long usableSpace(Path dir);

        /** The IPv4 addresses the host's resolver (getaddrinfo: /etc/hosts, systemd-resolved, DNS) gives a name. */
        default List<String> resolve(String name) {
            try {
                return java.util.Arrays.stream(java.net.InetAddress.getAllByName(name))
                        .filter(a -> a instanceof java.net.Inet4Address).map(java.net.InetAddress::getHostAddress)
                        .toList();
            } catch (java.net.UnknownHostException e) {
                return List.of();
            }
        }

        static HostProbe real() {
            return new HostProbe() {
                @Override
                public boolean exists(Path path) {
                    return Files.exists(path);
                }

                @Override
                public boolean canOpenReadWrite(Path path) {
                    try (FileChannel ignored = FileChannel.open(path, StandardOpenOption.READ,
                            StandardOpenOption.WRITE)) {
                        return true;
                    } catch (IOException | SecurityException e) {
                        return false;
                    }
                }

                @Override
                public Optional<String> readFile(Path path) {
                    try {
                        return Optional.of(Files.readString(path));
                    } catch (IOException e) {
                        return Optional.empty();
                    }
                }

                @Override
                public Optional<Path> findProgram(String name) {
                    return Executables.fromEnvironment().find(name);
                }

                @Override
                public Optional<byte[]> readHead(Path path, int bytes) {
                    try (InputStream in = Files.newInputStream(path)) {
                        return Optional.of(in.readNBytes(bytes));
                    } catch (IOException e) {
                        return Optional.empty();
                    }
                }

                @Override
                public boolean isExecutable(Path path) {
                    return Files.isRegularFile(path) && Files.isExecutable(path);
                }

                @Override
                public long usableSpace(Path dir) {
                    try {
                        return Files.getFileStore(dir).getUsableSpace();
                    } catch (IOException e) {
                        return 0;
                    }
                }
            };
        }
    }
}
