package dev.banger.model;

import java.util.Locale;

/** The lifecycle state recorded for a VM: what banger last made true or intends, not a live observation. */
public enum VmState {
    /** Provisioned record, never booted (or created with --no-start). */
    CREATED,
    STARTING,
    RUNNING,
    STOPPING,
    STOPPED,
    /** The last operation failed; {@code last_error} says why. */
    ERROR;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static VmState fromWire(String value) {
        return valueOf(value.toUpperCase(Locale.ROOT));
    }
}
