package dev.banger.vmm.qemu;

/** How QEMU executes guest code. */
public enum Accelerator {
    /** Hardware virtualisation through /dev/kvm. */
    KVM,
    /** QEMU's software emulator: slow but runs any kernel anywhere. */
    TCG
}
