package dev.banger.vmm.qemu;

import dev.banger.vmm.VmmChooser.Kvm;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Decides between KVM and TCG, first match wins: an explicit override; TCG on a PVM host (KVM there is
 * {@code kvm_pvm}, which runs only PVM-built guest kernels, so ordinary kernels hang or fail under it); KVM when
 * {@code /dev/kvm} is usable; otherwise TCG. The host's KVM is read by {@link Kvm#probe}, as the VMM choice and
 * {@code doctor} read it.
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
        return new AcceleratorChooser(Kvm.DEVICE, Kvm.PVM_MODULE, override);
    }

    public AcceleratorChoice choose() {
        if (override.isPresent()) {
            return new AcceleratorChoice(override.get(), "configured");
        }
        Kvm kvm = Kvm.probe(devKvm, pvmModule);
        if (kvm.runsOrdinaryGuests()) {
            return new AcceleratorChoice(Accelerator.KVM, kvm.fact());
        }
        return new AcceleratorChoice(Accelerator.TCG, kvm.fact() + "; using TCG emulation");
    }
}
