package dev.banger.vm;

import dev.banger.host.network.HostNetwork;
import dev.banger.kernel.InitrdAssembler;
import dev.banger.model.Vm;
import dev.banger.vmm.DiskSpec;
import dev.banger.vmm.NetworkSpec;
import dev.banger.vmm.VmSpec;
import dev.banger.vmm.VmmHandle;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The cold boot: the VM's kernel with banger's initramfs (the kernel's modules part plus this build's banger-init),
 * the root disk, the work disk and the tap, and the guest's identity on the kernel command line.
 */
final class ColdBoot implements LaunchStrategy {

    static final String AGENT_PORT_NAME = "banger.agent";

    private final InitrdAssembler initrds;
    private final Path initBinary;
    private final HostNetwork network;

    ColdBoot(InitrdAssembler initrds, Path initBinary, HostNetwork network) {
        this.initrds = initrds;
        this.initBinary = initBinary;
        this.network = network;
    }

    @Override
    public String describe() {
        return "booting";
    }

    @Override
    public VmmHandle launch(VmBoot.Boot boot) {
        Vm vm = boot.vm();
        Path initrd = initrds.initrdFor(boot.kernel().artifacts(), initBinary);
        VmSpec spec = new VmSpec(vm.id(), vm.name(), vm.cpus(), vm.memoryMib(), boot.kernelFile(),
                initrd, kernelCommandLine(vm), List.of(boot.rootDisk().toDiskSpec(),
                        new DiskSpec(vm.workDiskPath(), DiskSpec.Format.RAW, false, DiskSpec.Role.WORK)),
                vm.agentSocket(), vm.controlSocket(), vm.logPath(), vm.vmDir(), vm.vsockCid(),
                Optional.of(new NetworkSpec(boot.tap(), vm.mac())));
        return boot.driver().launch(spec);
    }

    /**
     * What every banger guest boots with: serial console, root and work disks, the agent's port. pci=off:
     * microVMs have no PCI bus; without it every boot logs "PCI: Fatal: No config space access".
     */
    static String baseCommandLine() {
        return "console=ttyS0 quiet panic=-1 pci=off banger.root=/dev/vda banger.work=/dev/vdb banger.agent=serial:"
                + AGENT_PORT_NAME;
    }

    private String kernelCommandLine(Vm vm) {
        return baseCommandLine() + " banger.hostname=" + vm.name() + " " + network.guestKernelArgs(vm.guestIp());
    }
}
