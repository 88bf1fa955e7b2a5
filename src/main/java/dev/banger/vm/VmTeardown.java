package dev.banger.vm;

import dev.banger.config.BangerPaths;
import dev.banger.dns.VmDns;
import dev.banger.host.network.HostNetwork;
import dev.banger.model.Vm;
import dev.banger.util.Files2;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Releases every host resource a VM's handles name, newest first: the VMM, the tap, the root disk's loops and
 * device-mapper device, then the runtime dir and the handles themselves. The one way resources are released:
 * stop, delete, reconcile and a failed boot all come here. Idempotent, and safe on half-built state; the caller
 * holds the VM's lock.
 */
final class VmTeardown {

    private static final Logger log = LoggerFactory.getLogger(VmTeardown.class);

    static final Duration TERMINATE_GRACE = Duration.ofSeconds(3);

    private final BangerPaths paths;
    private final RunningVms running;
    private final VmDisks disks;
    private final HostNetwork network;
    private final VmDns dns;

    VmTeardown(BangerPaths paths, RunningVms running, VmDisks disks, HostNetwork network, VmDns dns) {
        this.paths = paths;
        this.running = running;
        this.disks = disks;
        this.network = network;
        this.dns = dns;
    }

    void release(Vm vm) {
        dns.stopped(vm);
        running.guests().drop(vm);
        Optional<VmHandles> h = running.recoverHandles(vm);
        h.map(VmHandles::vmm).ifPresent(vmm -> running.driver(vm.vmm()).terminate(vmm, TERMINATE_GRACE));
        network.deleteTap(HostNetwork.tapName(vm.id())); // By name: also when the handles were lost.
        h.map(VmHandles::rootDisk).ifPresent(rootDisk -> {
            try {
                disks.releaseRootDisk(rootDisk);
            } catch (RuntimeException e) {
                log.warn("VM {}: releasing its root disk failed: {}", vm.name(), e.getMessage());
            }
        });
        try {
            Files2.deleteRecursively(paths.vmRuntimeDir(vm.id()));
        } catch (IOException e) {
            log.warn("could not remove the sockets of VM {}: {}", vm.name(), e.toString());
        }
        running.handles().remove(vm.id());
    }
}
