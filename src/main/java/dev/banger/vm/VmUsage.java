package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.api.VmStats;
import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import dev.banger.host.network.HostNetwork;
import dev.banger.model.Vm;
import dev.banger.vmm.VmmHandle;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code vm stats}: what a VM uses right now: its VMM process's CPU and resident memory, the guest's own view of
 * its memory (through the agent), its tap's traffic, and the disk space of its directory. Takes no VM lock; a
 * value that cannot be read is -1.
 */
public final class VmUsage {

    private static final Logger log = LoggerFactory.getLogger(VmUsage.class);
    /** How long the VMM's CPU time is sampled for the percentage. */
    static final Duration CPU_SAMPLE = Duration.ofMillis(250);

    private final RunningVms running;
    private final HostNetwork network;
    private final CommandRunner runner;

    public VmUsage(RunningVms running, HostNetwork network, CommandRunner runner) {
        this.running = running;
        this.network = network;
        this.runner = runner;
    }

    public VmStats stats(String name) throws InterruptedException {
        Vm vm = running.find(name);
        double cpu = -1;
        long rss = -1;
        long memTotal = -1;
        long memAvailable = -1;
        long[] net = {-1, -1};
        Optional<VmHandles> h = running.handles().get(vm.id());
        if (running.isAlive(vm)) {
            VmmHandle vmm = h.get().vmm();
            cpu = ProcessUsage.cpuPercent(vmm.pid(), CPU_SAMPLE);
            rss = ProcessUsage.rssBytes(vmm.pid());
            try {
                Map<String, Long> meminfo = ProcessUsage.meminfo(running.agent(vm));
                memTotal = meminfo.getOrDefault("MemTotal", -1L);
                memAvailable = meminfo.getOrDefault("MemAvailable", -1L);
            } catch (IOException | BangerException e) {
                log.debug("no guest meminfo for {}: {}", vm.name(), e.getMessage());
            }
            if (h.get().tap() != null) {
                net = network.tapBytes(h.get().tap()).orElse(net);
            }
        }
        return new VmStats(vm.name(), running.shownState(vm), cpu, rss, memTotal, memAvailable, diskUsage(vm),
                net[0], net[1]);
    }

    /** Bytes the VM's directory takes on the host (sparse disks count what they hold), or -1. */
    private long diskUsage(Vm vm) {
        try {
            String out = runner.run(Command.of("du", "-s", "-B1", vm.vmDir().toString())).stdoutText();
            return Long.parseLong(out.strip().split("\\s+")[0]);
        } catch (CommandFailedException | NumberFormatException e) {
            return -1;
        }
    }
}
