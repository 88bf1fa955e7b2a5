package dev.banger.kernel;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns the set of modules banger needs into the list of files to load, dependencies first. Depth-first, in the
 * order the wanted modules and each module's dependencies are listed, so the result is the same every time.
 * Built-in modules are skipped; a needed module that is neither a module nor built in is an error naming it.
 */
final class ModuleResolver {

    /** What a guest needs: virtio transports (mmio for microvm/Firecracker, pci for q35), disks, net, console, vsock. */
    static final List<String> GUEST_MODULES = List.of(
            "virtio_mmio", "virtio_pci", "virtio_blk", "virtio_net", "virtio_console", "vmw_vsock_virtio_transport");

    List<KernelModule> resolve(ModuleIndex index, List<String> wanted) {
        LinkedHashSet<String> done = new LinkedHashSet<>();
        List<KernelModule> order = new ArrayList<>();
        for (String name : wanted) {
            String canonical = KernelModule.canonical(name);
            if (index.module(canonical).isEmpty()) {
                if (index.isBuiltin(canonical)) {
                    continue;
                }
                throw new MissingModuleException(canonical, "kernel module " + canonical
                        + " is needed by banger but is neither a module in " + index.directory()
                        + " nor listed in its " + ModuleIndex.MODULES_BUILTIN
                        + "; use a kernel built with CONFIG_" + configHint(canonical) + "=y or =m");
            }
            visit(index, canonical, canonical, new HashSet<>(), done, order);
        }
        return order;
    }

    private void visit(ModuleIndex index, String name, String neededBy, Set<String> path,
                       Set<String> done, List<KernelModule> order) {
        if (done.contains(name)) {
            return;
        }
        if (!path.add(name)) {
            throw new KernelException("kernel modules in " + index.directory() + " have a dependency cycle through "
                    + name + " " + path);
        }
        KernelModule module = index.module(name).orElseThrow(() -> new MissingModuleException(name,
                "kernel module " + name + " (a dependency of " + neededBy + ") is missing from "
                        + index.directory()));
        for (String dep : index.dependencies(name)) {
            visit(index, dep, name, path, done, order);
        }
        path.remove(name);
        done.add(name);
        order.add(module);
    }

    private static String configHint(String module) {
        switch (module) {
            case "virtio_mmio": return "VIRTIO_MMIO";
            case "virtio_pci": return "VIRTIO_PCI";
            case "virtio_blk": return "VIRTIO_BLK";
            case "virtio_net": return "VIRTIO_NET";
            case "virtio_console": return "VIRTIO_CONSOLE";
            case "vmw_vsock_virtio_transport": return "VIRTIO_VSOCKETS";
            default: return module.toUpperCase(java.util.Locale.ROOT);
        }
    }
}
