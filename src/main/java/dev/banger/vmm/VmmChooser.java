package dev.banger.vmm;

import dev.banger.host.Executables;
import dev.banger.model.KernelFormat;
import dev.banger.model.VmmKind;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Which VMM a new VM gets, first match wins: the VMM its create names ({@code --vmm}); the config's
 * {@code defaultVmm} unless it is {@code auto}; Firecracker when KVM is usable (and is not kvm_pvm, which boots
 * only PVM guest kernels), {@code firecracker} is installed and the VM's kernel is an ELF vmlinux; otherwise QEMU,
 * which runs with KVM where it is usable and with TCG emulation elsewhere.
 */
public final class VmmChooser {

    /** The config value that leaves the choice to the host. */
    public static final String AUTO = "auto";

    private final HostProfile host;

    public VmmChooser(HostProfile host) {
        this.host = host;
    }

    /** The host this chooser decides for. */
    public HostProfile host() {
        return host;
    }

    /** A chooser for this host as it is now (KVM device, kvm_pvm, {@code firecracker} in PATH). */
    public static VmmChooser forHost() {
        return new VmmChooser(HostProfile.probe(Kvm.DEVICE, Kvm.PVM_MODULE, Executables.fromEnvironment()));
    }

    /**
     * What the choice looks at on the host.
     *
     * @param kvm whether guests can run under KVM here
     * @param firecracker the {@code firecracker} program, or empty when it is not installed
     */
    public record HostProfile(Kvm kvm, Optional<Path> firecracker) {

        /** Reads {@code devKvm}, {@code pvmModule} ({@link Kvm#probe}) and the search path. */
        public static HostProfile probe(Path devKvm, Path pvmModule, Executables executables) {
            return new HostProfile(Kvm.probe(devKvm, pvmModule), executables.find(FIRECRACKER));
        }
    }

    /**
     * KVM on this host, as far as guests are concerned; the one place that says what each state means (the VMM
     * choice, QEMU's accelerator choice and {@code doctor}'s kvm line all use it).
     */
    public enum Kvm {
        USABLE, NO_ACCESS, ABSENT, PVM_ONLY;

        /** The KVM device. */
        public static final Path DEVICE = Path.of("/dev/kvm");
        /** Present when the host's KVM is kvm_pvm, which boots only PVM-built guest kernels. */
        public static final Path PVM_MODULE = Path.of("/sys/module/kvm_pvm");

        public static Kvm of(boolean pvmModule, boolean devKvmExists, boolean devKvmUsable) {
            return pvmModule ? PVM_ONLY : !devKvmExists ? ABSENT : devKvmUsable ? USABLE : NO_ACCESS;
        }

        /**
         * This host's KVM as this process sees it: usable means {@code devKvm} opens for reading and writing, as
         * QEMU and Firecracker open it (permissions, and a container's device rules, decide).
         */
        public static Kvm probe(Path devKvm, Path pvmModule) {
            boolean exists = Files.exists(devKvm);
            return of(Files.exists(pvmModule), exists, exists && opensReadWrite(devKvm));
        }

        private static boolean opensReadWrite(Path device) {
            try (FileChannel ignored = FileChannel.open(device, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                return true;
            } catch (IOException | SecurityException | UnsupportedOperationException e) {
                return false;
            }
        }

        /** Whether ordinary guest kernels run under KVM here. */
        public boolean runsOrdinaryGuests() {
            return this == USABLE;
        }

        /** What KVM is here, for people: "KVM here is kvm_pvm, which boots only PVM guest kernels". */
        public String fact() {
            return switch (this) {
                case USABLE -> "KVM is usable";
                case NO_ACCESS -> DEVICE + " is not readable and writable by this user";
                case ABSENT -> "no " + DEVICE;
                case PVM_ONLY -> "KVM here is kvm_pvm, which boots only PVM guest kernels";
            };
        }
    }

    /**
     * The VMM and why, for {@code doctor} and logs.
     *
     * @param kind the VMM
     * @param reason one line naming what decided it, ending with the outcome ("...: QEMU with KVM")
     */
    public record Choice(VmmKind kind, String reason) {
    }

    static final String FIRECRACKER = "firecracker";
    private static final String QEMU_TCG = "QEMU with TCG emulation";

    /**
     * @param requested the VMM the create names ({@code "qemu"}, {@code "firecracker"}), or null
     * @param configured the config's {@code defaultVmm} when it is not {@code auto}
     * @param kernelFormat the format of the VM's kernel, asked only when it decides; it may return null when the
     *     kernel is not known (doctor), and the reason then says what each format gets
     * @throws IllegalArgumentException for a requested name that is no VMM
     */
    public Choice choose(String requested, Optional<VmmKind> configured, Supplier<KernelFormat> kernelFormat) {
        if (requested != null) {
            VmmKind kind = VmmKind.fromWire(requested);
            return new Choice(kind, "asked for with --vmm: " + name(kind));
        }
        if (configured.isPresent()) {
            return new Choice(configured.get(), "defaultVmm is \"" + configured.get().wireName()
                    + "\" in the daemon's config.json: " + name(configured.get()));
        }
        switch (host.kvm()) {
            case PVM_ONLY:
                return qemu(host.kvm().fact() + ": " + QEMU_TCG);
            case ABSENT:
            case NO_ACCESS:
                return qemu(host.kvm().fact() + ", and Firecracker needs KVM: " + QEMU_TCG);
            default:
                break;
        }
        if (host.firecracker().isEmpty()) {
            return qemu(host.kvm().fact() + " but firecracker is not installed (docs/firecracker.md): QEMU with KVM");
        }
        String installed = host.kvm().fact() + ", firecracker is " + host.firecracker().get();
        KernelFormat format = kernelFormat.get();
        if (format == null) {
            return new Choice(VmmKind.FIRECRACKER, installed + ": Firecracker for a kernel that is an ELF vmlinux, "
                    + "QEMU with KVM for a bzImage");
        }
        if (format != KernelFormat.ELF) {
            return qemu(installed + ", but the kernel is a bzImage, which Firecracker cannot boot: QEMU with KVM");
        }
        return new Choice(VmmKind.FIRECRACKER, installed + " and the kernel is an ELF vmlinux: Firecracker");
    }

    /**
     * What KVM on this host is usable for, whatever the config and the kernel: one line for {@code doctor}'s kvm
     * check, saying which VMM guests get where the host decides ({@code defaultVmm} auto, no {@code --vmm}).
     */
    public String kvmUse() {
        Kvm kvm = host.kvm();
        return switch (kvm) {
            case USABLE -> kvm.fact() + ": guests run under QEMU with KVM" + host.firecracker()
                    .map(f -> ", or Firecracker (" + f + ") when their kernel is an ELF vmlinux")
                    .orElse("; Firecracker could run them too, but it is not installed (docs/firecracker.md)");
            case PVM_ONLY -> kvm.fact() + ": ordinary guest kernels do not run under it, so guests run under "
                    + QEMU_TCG + " (slow, but it works)";
            case ABSENT, NO_ACCESS -> kvm.fact() + ": guests run under " + QEMU_TCG + " (slow, but it works)";
        };
    }

    private static String name(VmmKind kind) {
        return kind == VmmKind.QEMU ? "QEMU" : "Firecracker";
    }

    private static Choice qemu(String reason) {
        return new Choice(VmmKind.QEMU, reason);
    }
}
