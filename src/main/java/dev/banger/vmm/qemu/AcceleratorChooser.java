package dev.banger.vmm.qemu;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Decides between KVM and TCG, first match wins: an explicit override; TCG on a PVM host (KVM there is
 * {@code kvm_pvm}, which runs only PVM-built guest kernels, so ordinary kernels hang or fail under it); KVM when
 * {@code /dev/kvm} is usable; otherwise TCG.
 */
public final class AcceleratorChooser {

    private final Path devKvm;
    private final Path pvmModule;
    private final Optional<Accelerator> override;

    AcceleratorChooser(Path devKvm, Path pvmModule, Optional<Accelerator> override) {
        this.devKvm = devKvm;
        this.pvmModule = pvmModule;
        this.override = override;
    }

    /** Looks at this host's {@code /dev/kvm} and {@code /sys/module/kvm_pvm}; {@code override} wins when set. */
    public static AcceleratorChooser forHost(Optional<Accelerator> override) {
        return new AcceleratorChooser(Path.of("/dev/kvm"), Path.of("/sys/module/kvm_pvm"), override);
    }

    public AcceleratorChoice choose() {
        if (override.isPresent()) {
            return new AcceleratorChoice(override.get(), "configured");
        }
        if (Files.exists(pvmModule)) {
            return new AcceleratorChoice(Accelerator.TCG, "host KVM is kvm_pvm (" + pvmModule
                    + "), which boots only PVM guest kernels; using TCG emulation");
        }
        if (Files.exists(devKvm) && Files.isReadable(devKvm) && Files.isWritable(devKvm)) {
            return new AcceleratorChoice(Accelerator.KVM, devKvm + " is usable");
        }
        return new AcceleratorChoice(Accelerator.TCG, Files.exists(devKvm)
                ? devKvm + " is not readable and writable by this user; using TCG emulation"
                : "no " + devKvm + "; using TCG emulation");
    }
}
