package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.api.PortList;
import dev.banger.api.PortView;
import dev.banger.model.Vm;
import java.io.IOException;

/** {@code vm ports}: what listens in a running guest, as its agent reads /proc/net. */
public final class VmPorts {

    private final VmService vms;

    public VmPorts(VmService vms) {
        this.vms = vms;
    }

    public PortList ports(String name) {
        Vm vm = vms.find(name);
        try {
            return new PortList(vms.guest(vm).ports().stream()
                    .map(p -> new PortView(p.protocol(), p.address(), p.port(), p.pid(), p.command())).toList());
        } catch (IOException e) {
            throw BangerException.unavailable("cannot list the ports of VM '" + vm.name() + "': " + e.getMessage());
        }
    }
}
