package dev.banger.kernel;

import dev.banger.api.BangerException;
import dev.banger.api.KernelList;
import dev.banger.api.KernelView;
import dev.banger.model.Kernel;
import dev.banger.store.KernelStore;
import dev.banger.store.VmStore;

/** Guest kernels: the six kernel commands. */
public final class KernelService {

    private final KernelStore kernels;
    private final VmStore vms;

    public KernelService(KernelStore kernels, VmStore vms) {
        this.kernels = kernels;
        this.vms = vms;
    }

    public KernelList list() {
        return new KernelList(kernels.list().stream().map(this::view).toList());
    }

    public KernelView show(String name) {
        return view(kernels.findByName(name).orElseThrow(() ->
                BangerException.notFound("no such kernel: " + name + "; see: banger kernel list")));
    }

    private KernelView view(Kernel kernel) {
        return new KernelView(kernel.name(), kernel.version(), kernel.source(), kernel.kernelPath().toString(),
                kernel.modulesDir() == null ? null : kernel.modulesDir().toString(), kernel.isDefault(),
                kernel.createdAt().toString(), vms.namesUsingKernel(kernel.name()));
    }
}
