package dev.banger.vmm.firecracker;

import dev.banger.vmm.VmmException;

/**
 * Firecracker answered an API request with an error status. The message carries Firecracker's own
 * {@code fault_message} verbatim, e.g. {@code Firecracker refused PUT /boot-source: Boot source error: The kernel
 * file cannot be opened: No such file or directory (os error 2)}.
 */
public final class FirecrackerApiException extends VmmException {

    private final String method;
    private final String path;
    private final int status;
    private final String faultMessage;

    FirecrackerApiException(String method, String path, int status, String faultMessage) {
        super(message(method, path, status, faultMessage));
        this.method = method;
        this.path = path;
        this.status = status;
        this.faultMessage = faultMessage;
    }

    private static String message(String method, String path, int status, String faultMessage) {
        String request = method + " " + path;
        if (status >= 400 && status < 500) {
            return "Firecracker refused " + request + ": " + faultMessage;
        }
        return "Firecracker answered " + status + " to " + request + ": " + faultMessage;
    }

    public String method() {
        return method;
    }

    public String path() {
        return path;
    }

    public int status() {
        return status;
    }

    /** Firecracker's {@code fault_message}, or the raw body when the answer had none. */
    public String faultMessage() {
        return faultMessage;
    }
}
