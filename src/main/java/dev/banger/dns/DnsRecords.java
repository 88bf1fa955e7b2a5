package dev.banger.dns;

import java.net.Inet4Address;
import java.util.Map;
import java.util.Optional;

/**
 * What the DNS server answers for {@code NAME.vm}: the address of each running VM, by VM name. The VM service
 * sets a name when its VM is running and removes it when the VM stops or is deleted; at daemon start the records
 * are rebuilt from the VMs that reconcile finds running. Names are case-insensitive.
 */
public interface DnsRecords {

    /** Records {@code vmName → ipv4}, replacing an earlier address. @throws IllegalArgumentException for a bad IP */
    void set(String vmName, String ipv4);

    /** Forgets {@code vmName}; absent is fine. */
    void remove(String vmName);

    /** The address of {@code vmName}, if it is running. */
    Optional<Inet4Address> lookup(String vmName);

    /** A snapshot, for status output and tests. */
    Map<String, Inet4Address> all();

    /** Thread-safe in-memory records. */
    static DnsRecords inMemory() {
        return new InMemoryDnsRecords();
    }
}
