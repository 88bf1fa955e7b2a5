package dev.banger.vmm.qemu;

/**
 * The accelerator to use and why, for logs and {@code doctor}.
 *
 * @param accelerator the choice
 * @param reason one line a human can act on
 */
public record AcceleratorChoice(Accelerator accelerator, String reason) {
}
