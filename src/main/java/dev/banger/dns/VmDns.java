package dev.banger.dns;

import dev.banger.model.Vm;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * What the VM service tells DNS: a VM is running (its name resolves, and the host resolver is pointed at banger's
 * server while the bridge is up) or no longer running (its name stops resolving: NXDOMAIN).
 */
public final class VmDns {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(VmDns.class);

    private final DnsRecords records;
    private final HostResolverHook hook;
    private final String bridge;
    private final Optional<InetSocketAddress> server;

    /**
     * @param bridge the guest bridge, whose link carries the resolver route
     * @param server the DNS server's address, or empty when it is off (records are kept all the same)
     */
    public VmDns(DnsRecords records, HostResolverHook hook, String bridge, Optional<InetSocketAddress> server) {
        this.records = records;
        this.hook = hook;
        this.bridge = bridge;
        this.server = server;
    }

    public DnsRecords records() {
        return records;
    }

    /** The VM runs: {@code NAME.vm} → its IP. */
    public void running(Vm vm) {
        if (vm.guestIp() != null) {
            records.set(vm.name(), vm.guestIp());
        }
        try {
            server.ifPresent(address -> hook.apply(bridge, address));
        } catch (RuntimeException e) {
            log.warn("host resolver hook failed: {}", e.toString()); // Never a reason to fail a VM start.
        }
    }

    /** The VM stopped, failed or is deleted: {@code NAME.vm} no longer resolves. */
    public void stopped(Vm vm) {
        records.remove(vm.name());
    }
}
