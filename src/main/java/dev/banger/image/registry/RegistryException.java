package dev.banger.image.registry;

import dev.banger.image.ImageException;

/**
 * A registry call failed: the registry could not be reached, refused access, or answered with an error.
 * {@link #status()} is the HTTP status (0 when there was no answer) and {@link #registryCode()} the first error code
 * of the registry's JSON error body (e.g. {@code MANIFEST_UNKNOWN}), or null.
 */
public class RegistryException extends ImageException {

    private final int status;
    private final String registryCode;

    public RegistryException(String message, int status, String registryCode) {
        super(message);
        this.status = status;
        this.registryCode = registryCode;
    }

    public RegistryException(String message, Throwable cause) {
        super(message, cause);
        this.status = 0;
        this.registryCode = null;
    }

    public int status() {
        return status;
    }

    public String registryCode() {
        return registryCode;
    }

    /** True when the registry says the repository, tag or digest does not exist. */
    public boolean isNotFound() {
        return status == 404;
    }

    /** True when the registry refused access (no or wrong credentials, or no permission). */
    public boolean isAccessDenied() {
        return status == 401 || status == 403;
    }
}
