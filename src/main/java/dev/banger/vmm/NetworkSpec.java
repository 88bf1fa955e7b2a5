package dev.banger.vmm;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A virtio-net device backed by an existing host tap device (created by the host network service).
 *
 * @param tapName the tap interface, at most 15 characters
 * @param mac the guest's MAC address, {@code xx:xx:xx:xx:xx:xx}
 */
public record NetworkSpec(String tapName, String mac) {

    static final Pattern MAC = Pattern.compile("(?i)[0-9a-f]{2}(:[0-9a-f]{2}){5}");
    static final Pattern TAP = Pattern.compile("[A-Za-z0-9_.-]{1,15}");

    public NetworkSpec {
        Objects.requireNonNull(tapName, "tapName");
        Objects.requireNonNull(mac, "mac");
    }
}
