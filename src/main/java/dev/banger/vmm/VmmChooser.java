package dev.banger.vmm;

import dev.banger.host.Executables;
import dev.banger.model.KernelFormat;
import dev.banger.model.VmmKind;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /** A chooser for this host as it is now (KVM device, kvm_pvm, {@code firecracker} in PATH). */
    public static VmmChooser forHost() {
        return new VmmChooser(HostProfile.probe(Path.of("/dev/kvm"), Path.of("/sys/module/kvm_pvm"),
                Executables.fromEnvironment()));
    }

    /**
     * What the choice looks at on the host.
     *
     * @param kvm whether guests can run under KVM here
     * @param firecracker the {@code firecracker} program, or empty when it is not installed
     */
    public record HostProfile(Kvm kvm, Optional<Path> firecracker) {

        /** Reads {@code devKvm}, {@code pvmModule} and the search path, as the QEMU accelerator choice does. */
        public static HostProfile probe(Path devKvm, Path pvmModule, Executables executables) {
            boolean exists = Files.exists(devKvm);
            return new HostProfile(Kvm.of(Files.exists(pvmModule), exists,
                    exists && Files.isReadable(devKvm) && Files.isWritable(devKvm)),
                    executables.find(FIRECRACKER));
        }
    }

    /** KVM on this host, as far as guests are concerned. */
    public enum Kvm {
        USABLE, NO_ACCESS, ABSENT, PVM_ONLY;

        public static Kvm of(boolean pvmModule, boolean devKvmExists, boolean devKvmUsable) {
            return pvmModule ? PVM_ONLY : !devKvmExists ? ABSENT : devKvmUsable ? USABLE : NO_ACCESS;
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
                return qemu("KVM here is kvm_pvm, which boots only PVM guest kernels: QEMU with TCG emulation");
            case ABSENT:
                return qemu("no /dev/kvm, and Firecracker needs KVM: QEMU with TCG emulation");
            case NO_ACCESS:
                return qemu("/dev/kvm is not readable and writable by this user, and Firecracker needs KVM: QEMU "
                        + "with TCG emulation");
            default:
                break;
        }
        if (host.firecracker().isEmpty()) {
            return qemu("KVM is usable but firecracker is not installed (docs/firecracker.md): QEMU with KVM");
        }
        String installed = "KVM is usable, firecracker is " + host.firecracker().get();
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

    private static String name(VmmKind kind) {
        return kind == VmmKind.QEMU ? "QEMU" : "Firecracker";
    }

    private static Choice qemu(String reason) {
        return new Choice(VmmKind.QEMU, reason);
    }
}
