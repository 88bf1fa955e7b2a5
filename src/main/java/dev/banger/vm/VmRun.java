package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.api.Event;
import dev.banger.api.ErrorCode;
import dev.banger.api.ExecResult;
import dev.banger.api.VmCreateRequest;
import dev.banger.api.VmDeleteRequest;
import dev.banger.api.VmExecRequest;
import dev.banger.api.VmRunRequest;
import dev.banger.api.VmRunResult;
import dev.banger.api.WorkspaceExportRequest;
import dev.banger.api.WorkspaceExportResult;
import java.io.IOException;
import dev.banger.model.Vm;
import dev.banger.rpc.Call;
import dev.banger.workspace.Workspace;
import dev.banger.workspace.WorkspaceService;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code vm run}, in the daemon so that its promises hold whatever the client does: create and boot a VM with
 * the git workspace seeded into its work disk, run the command in the workspace, and with {@code --rm} delete
 * the VM afterwards — also when the command fails, the boot fails, or the client disappears (a cancelled call
 * kills the guest command, then the VM goes).
 */
public final class VmRun {

    private static final Logger log = LoggerFactory.getLogger(VmRun.class);

    /** What ext4 takes of a small disk for itself: the journal, inode tables, reserved blocks. */
    static final long EXT4_OVERHEAD_MIB = 16;

    private final VmLifecycle vms;
    private final RunningVms running;
    private final VmExec exec;
    private final WorkspaceService workspaces;

    public VmRun(VmLifecycle vms, RunningVms running, VmExec exec, WorkspaceService workspaces) {
        this.vms = vms;
        this.running = running;
        this.exec = exec;
        this.workspaces = workspaces;
    }

    public VmRunResult run(VmRunRequest request, Call call) throws InterruptedException {
        if (request.argv() == null || request.argv().isEmpty()) {
            throw BangerException.invalidArgument("name a command to run after --");
        }
        Optional<Workspace> workspace = request.workspace() == null ? Optional.empty()
                : workspaces.find(call.peer(), Path.of(request.workspace()));
        try {
            return run(request, workspace, call);
        } finally {
            workspace.ifPresent(Workspace::close); // Also when the run failed before the VM was created.
        }
    }

    private VmRunResult run(VmRunRequest request, Optional<Workspace> workspace, Call call)
            throws InterruptedException {
        if (request.workspace() != null && workspace.isEmpty()) {
            call.emit(new Event.Output("stderr", ("banger: " + request.workspace() + " is not in a git checkout, so "
                    + "the VM gets no workspace (--no-workspace says that is what you meant)\n")
                    .getBytes(StandardCharsets.UTF_8)));
        }
        String name = request.name() != null ? request.name() : vms.generateName();
        VmCreateRequest create = new VmCreateRequest(name, request.image(), request.kernel(), request.cpus(),
                request.memoryMib(), request.diskMib(), request.vmm(), false, request.cold());
        Vm vm;
        try {
            vm = vms.create(create, workspace.<java.util.function.Consumer<Path>>map(ws -> seed ->
                    workspaces.seed(ws, seed)).orElse(null), workspace.map(VmRun::diskMibFor).orElse(0L), call);
        } catch (BangerException e) {
            if (request.rm() && e.code() != ErrorCode.ALREADY_EXISTS) {
                remove(name); // A failed boot leaves the VM in state error; --rm means it goes anyway.
            }
            throw e;
        } finally {
            workspace.ifPresent(Workspace::close); // Seeded by now: a copy made as the client is not needed.
        }
        try {
            if (call.cancelled()) {
                throw new BangerException(ErrorCode.CANCELLED, "the client went away before the command started");
            }
            String cwd = request.workdir() != null ? request.workdir()
                    : workspace.map(Workspace::guestDirectory).orElse(null);
            ExecResult result = exec.exec(new VmExecRequest(vm.name(), request.argv(), request.env(), cwd,
                    request.tty(), request.rows(), request.cols(), request.stdin()), call);
            return new VmRunResult(vm.name(), result.exitCode(), result.signal(), request.rm());
        } finally {
            if (request.rm()) {
                remove(vm.name());
            }
        }
    }

    /**
     * The work disk a workspace needs at the least: its bytes, a fifth more and {@link #EXT4_OVERHEAD_MIB} for
     * ext4's own structures (journal, inode tables).
     */
    static long diskMibFor(Workspace workspace) {
        long bytes = workspace.seedBytes() + workspace.seedBytes() / 5;
        return (bytes + (1 << 20) - 1 >> 20) + EXT4_OVERHEAD_MIB;
    }

    /** {@code workspace export}: a bundle of the guest repository's work, streamed to the client. */
    public WorkspaceExportResult export(WorkspaceExportRequest request, Call call) throws InterruptedException {
        if (request.guestPath() == null || !request.guestPath().startsWith("/")) {
            throw BangerException.invalidArgument("the guest repository must be an absolute path");
        }
        GuestTarget target = running.target(request.vm());
        try {
            return workspaces.export(target.agent(), request.guestPath(), request.uncommitted(), call);
        } catch (IOException e) {
            throw GuestErrors.of(target.vm(), "export of " + request.guestPath() + " in VM '" + target.vm().name()
                    + "'", e);
        }
    }

    private void remove(String name) {
        try {
            vms.delete(new VmDeleteRequest(List.of(name), true));
            log.info("vm run --rm: deleted {}", name);
        } catch (BangerException e) {
            if (e.code() != ErrorCode.NOT_FOUND) {
                log.warn("vm run --rm: could not delete {}: {}", name, e.getMessage());
            }
        }
    }
}
