package dev.banger.vmm.qemu;

import dev.banger.vmm.VmmException;

/** The QMP socket could not be reached, timed out, or QEMU answered a command with an error. */
public final class QmpException extends VmmException {

    public QmpException(String message) {
        super(message);
    }

    public QmpException(String message, Throwable cause) {
        super(message, cause);
    }
}
