package dev.banger.vmm;

/** A VMM could not be started, reached or stopped; the message names the VM and what to do. */
public class VmmException extends RuntimeException {

    public VmmException(String message) {
        super(message);
    }

    public VmmException(String message, Throwable cause) {
        super(message, cause);
    }
}
