package dev.banger.model;

import java.util.Locale;

/** Which virtual machine monitor runs a VM. */
public enum VmmKind {
    QEMU,
    FIRECRACKER;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a user- or store-supplied name; an unknown one is an {@link IllegalArgumentException}. */
    public static VmmKind fromWire(String value) {
        for (VmmKind kind : values()) {
            if (kind.wireName().equals(value)) {
                return kind;
            }
        }
        throw new IllegalArgumentException("unknown VMM '" + value + "': use qemu or firecracker");
    }
}
