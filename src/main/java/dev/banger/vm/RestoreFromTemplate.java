package dev.banger.vm;

import dev.banger.guest.AgentClient;
import dev.banger.guest.Personalisation;
import dev.banger.host.CommandRunner;
import dev.banger.host.disk.DiskFiles;
import dev.banger.host.disk.RootDiskException;
import dev.banger.host.network.HostNetwork;
import dev.banger.host.network.NetworkConfig;
import dev.banger.model.Vm;
import dev.banger.template.Template;
import dev.banger.vmm.DiskSpec;
import dev.banger.vmm.NetworkSpec;
import dev.banger.vmm.Snapshot;
import dev.banger.vmm.VmSpec;
import dev.banger.vmm.VmmHandle;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Starts a new VM from a template instead of booting it (docs/snapshots.md): the VM's root disk becomes a copy of
 * the template's (its state at capture), the VMM starts with the template's kernel, initramfs and command line and
 * the VM's own disks, sockets and tap, maps the template's RAM copy-on-write and loads its device state. Once the
 * agent answers, {@code guest.personalise} gives the guest its identity: fresh entropy, clock, hostname,
 * machine id, MAC and address, work disk, sshd.
 */
final class RestoreFromTemplate implements LaunchStrategy {

    /** The work disk's device: the second virtio-blk device, as in a cold boot. */
    static final String WORK_DEVICE = "/dev/vdb";
    /** A full copy of a large raw disk where the filesystem has no reflinks. */
    private static final Duration COPY_TIMEOUT = Duration.ofMinutes(30);

    private final Template template;
    private final HostNetwork network;
    private final CommandRunner runner;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    RestoreFromTemplate(Template template, HostNetwork network, CommandRunner runner, Clock clock) {
        this.template = template;
        this.network = network;
        this.runner = runner;
        this.clock = clock;
    }

    Template template() {
        return template;
    }

    @Override
    public String describe() {
        return "restoring from template " + template.id().substring(0, 12);
    }

    /**
     * The template's root disk is the disk as the template's boot left it (QEMU: an overlay over the same image;
     * Firecracker: the whole raw disk); the VM, whose root disk is of the same kind (same file name), takes a
     * private sparse copy (a reflink where the filesystem has them), so the template's file is never written and
     * stays valid for the next clone.
     */
    @Override
    public void prepareRootDisk(VmBoot.Boot boot) throws IOException {
        Path target = boot.vm().rootDiskPath();
        if (!target.getFileName().toString().equals(template.rootDiskFile())) {
            throw new IOException("VM '" + boot.vm().name() + "' has a root disk of another kind (" + target
                    + ") than template " + template.id().substring(0, 12) + " (" + template.rootDiskFile() + ")");
        }
        try {
            DiskFiles.copy(runner, template.rootDisk(), target, "copy the template's root disk to", COPY_TIMEOUT);
        } catch (RootDiskException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public VmmHandle launch(VmBoot.Boot boot) {
        Vm vm = boot.vm();
        VmSpec spec = new VmSpec(vm.id(), vm.name(), vm.cpus(), vm.memoryMib(), template.kernel(), template.initrd(),
                template.kernelCmdline(), List.of(boot.rootDisk().toDiskSpec(),
                        new DiskSpec(vm.workDiskPath(), DiskSpec.Format.RAW, false, DiskSpec.Role.WORK)),
                vm.agentSocket(), vm.controlSocket(), vm.logPath(), vm.vmDir(), vm.vsockCid(),
                Optional.of(new NetworkSpec(boot.tap(), vm.mac())));
        return boot.driver().restore(spec, new Snapshot(template.memory(), template.deviceState()));
    }

    @Override
    public String personalise(VmBoot.Boot boot, AgentClient agent) throws IOException {
        Vm vm = boot.vm();
        NetworkConfig net = network.config();
        byte[] entropy = new byte[64];
        random.nextBytes(entropy);
        byte[] machineId = new byte[16];
        random.nextBytes(machineId);
        Personalisation identity = new Personalisation(vm.name(), Optional.of(new Personalisation.Network(vm.mac(),
                vm.guestIp() + "/" + net.subnet().prefix(), net.hostAddress(), String.join(",", net.dns()))),
                clock.instant(), entropy, HexFormat.of().formatHex(machineId), WORK_DEVICE, true);
        return agent.personalise(identity).describe();
    }
}
