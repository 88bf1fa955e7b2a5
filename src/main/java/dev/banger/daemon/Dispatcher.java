package dev.banger.daemon;

import dev.banger.api.Api;
import dev.banger.api.Empty;
import dev.banger.image.ImageService;
import dev.banger.image.bundle.ImageBundles;
import dev.banger.kernel.KernelService;
import dev.banger.rpc.HandlerRegistry;
import dev.banger.session.SessionService;
import dev.banger.vm.VmConnect;
import dev.banger.vm.VmCopy;
import dev.banger.vm.VmExec;
import dev.banger.vm.VmPorts;
import dev.banger.vm.VmRun;
import dev.banger.vm.VmLifecycle;
import dev.banger.vm.VmUsage;

/** The daemon's RPC surface: every handler is one line forwarding to a service. */
final class Dispatcher {

    private Dispatcher() {
    }

    static HandlerRegistry handlers(DaemonControl daemon, VmLifecycle vms, VmUsage usage, VmExec exec, VmRun run,
                                    VmConnect connect, VmPorts ports, VmCopy copy, SessionService sessions,
                                    ImageService images, ImageBundles bundles, KernelService kernels) {
        return new HandlerRegistry()
                .on(Api.DAEMON_STATUS, (req, call) -> daemon.status())
                .on(Api.DAEMON_SHUTDOWN, (req, call) -> { daemon.requestShutdown(); return Empty.INSTANCE; })
                .on(Api.VM_CREATE, vms::create)
                .on(Api.VM_ATTACH, (req, call) -> vms.attach(req.operation(), call))
                .on(Api.VM_LIST, (req, call) -> vms.list())
                .on(Api.TEMPLATE_LIST, (req, call) -> vms.templateList())
                .on(Api.TEMPLATE_PRUNE, (req, call) -> vms.templatePrune(req.all()))
                .on(Api.VM_SHOW, (req, call) -> vms.show(req.name()))
                .on(Api.VM_DELETE, (req, call) -> vms.delete(req))
                .on(Api.VM_START, (req, call) -> vms.start(req.name(), call))
                .on(Api.VM_STOP, vms::stop)
                .on(Api.VM_RESUME, (req, call) -> vms.resume(req.name()))
                .on(Api.VM_RESTART, vms::restart)
                .on(Api.VM_EXEC, exec::exec)
                .on(Api.VM_RUN, run::run)
                .on(Api.WORKSPACE_EXPORT, run::export)
                .on(Api.VM_SET, (req, call) -> vms.set(req))
                .on(Api.VM_STATS, (req, call) -> usage.stats(req.name()))
                .on(Api.VM_LOGS, exec::logs)
                .on(Api.VM_CONNECT, connect::connect)
                .on(Api.VM_PORTS, (req, call) -> ports.ports(req.name()))
                .on(Api.VM_COPY_IN, copy::copyIn)
                .on(Api.VM_COPY_OUT, copy::copyOut)
                .on(Api.SESSION_START, (req, call) -> sessions.start(req))
                .on(Api.SESSION_LIST, (req, call) -> sessions.list(req.name()))
                .on(Api.SESSION_ATTACH, sessions::attach)
                .on(Api.SESSION_LOGS, sessions::logs)
                .on(Api.SESSION_KILL, (req, call) -> sessions.kill(req))
                .on(Api.SESSION_REMOVE, (req, call) -> sessions.remove(req))
                .on(Api.IMAGE_LIST, (req, call) -> images.list())
                .on(Api.IMAGE_SHOW, (req, call) -> images.show(req.name()))
                .on(Api.IMAGE_REGISTER, images::register)
                .on(Api.IMAGE_PULL, images::pull)
                .on(Api.IMAGE_PROMOTE, (req, call) -> vms.promote(req.vm(), req.name()))
                .on(Api.IMAGE_DELETE, (req, call) -> { images.delete(req.name()); return Empty.INSTANCE; })
                .on(Api.IMAGE_DEFAULT, (req, call) -> images.defaultImage(req.name()))
                .on(Api.IMAGE_EXPORT, bundles::export)
                .on(Api.IMAGE_IMPORT, bundles::importBundle)
                .on(Api.KERNEL_LIST, (req, call) -> kernels.list())
                .on(Api.KERNEL_SHOW, (req, call) -> kernels.show(req.name()))
                .on(Api.KERNEL_IMPORT, kernels::importKernel)
                .on(Api.KERNEL_PULL, kernels::pull)
                .on(Api.KERNEL_DELETE, (req, call) -> { kernels.delete(req.name()); return Empty.INSTANCE; })
                .on(Api.KERNEL_DEFAULT, (req, call) -> { kernels.makeDefault(req.name()); return Empty.INSTANCE; });
    }
}
