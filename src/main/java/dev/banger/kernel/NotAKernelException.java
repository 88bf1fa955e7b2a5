package dev.banger.kernel;

/** A file given as a kernel image is neither a bzImage nor an ELF vmlinux. */
public final class NotAKernelException extends KernelException {

    public NotAKernelException(String message) {
        super(message);
    }
}
