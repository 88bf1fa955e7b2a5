package dev.banger.vm;

import dev.banger.api.PortList;
import dev.banger.api.PortView;
import java.io.IOException;

/** {@code vm ports}: what listens in a running guest, as its agent reads /proc/net. */
public final class VmPorts {

    private final RunningVms vms;

    public VmPorts(RunningVms vms) {
        this.vms = vms;
    }

    public PortList ports(String name) {
        GuestTarget target = vms.target(name);
        try {
            return new PortList(target.agent().ports().stream()
                    .map(p -> new PortView(p.protocol(), p.address(), p.port(), p.pid(), p.command())).toList());
        } catch (IOException e) {
            throw GuestErrors.of(target.vm(), "VM '" + target.vm().name() + "'", e);
        }
    }
}
