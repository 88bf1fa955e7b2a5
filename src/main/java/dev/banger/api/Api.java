package dev.banger.api;

import java.util.List;

/** Every RPC operation the daemon serves. The daemon's dispatch table and the CLI both use these constants. */
public final class Api {

    public static final Method<Empty, DaemonStatus> DAEMON_STATUS =
            new Method<>("daemon.status", Empty.class, DaemonStatus.class);
    public static final Method<Empty, Empty> DAEMON_SHUTDOWN =
            new Method<>("daemon.shutdown", Empty.class, Empty.class);

    public static final Method<VmCreateRequest, VmView> VM_CREATE =
            new Method<>("vm.create", VmCreateRequest.class, VmView.class);
    public static final Method<OperationRef, VmView> VM_ATTACH =
            new Method<>("vm.attach", OperationRef.class, VmView.class);
    public static final Method<Empty, VmList> VM_LIST = new Method<>("vm.list", Empty.class, VmList.class);
    public static final Method<VmRef, VmView> VM_SHOW = new Method<>("vm.show", VmRef.class, VmView.class);
    public static final Method<VmDeleteRequest, VmDeleteResult> VM_DELETE =
            new Method<>("vm.delete", VmDeleteRequest.class, VmDeleteResult.class);

    public static final Method<VmRef, VmView> VM_START = new Method<>("vm.start", VmRef.class, VmView.class);
    public static final Method<VmStopRequest, VmView> VM_STOP =
            new Method<>("vm.stop", VmStopRequest.class, VmView.class);
    public static final Method<VmRef, VmView> VM_RESUME = new Method<>("vm.resume", VmRef.class, VmView.class);
    public static final Method<VmStopRequest, VmView> VM_RESTART =
            new Method<>("vm.restart", VmStopRequest.class, VmView.class);
    public static final Method<VmExecRequest, ExecResult> VM_EXEC =
            new Method<>("vm.exec", VmExecRequest.class, ExecResult.class);
    public static final Method<VmRunRequest, VmRunResult> VM_RUN =
            new Method<>("vm.run", VmRunRequest.class, VmRunResult.class);
    public static final Method<VmSetRequest, VmView> VM_SET =
            new Method<>("vm.set", VmSetRequest.class, VmView.class);
    public static final Method<VmRef, VmStats> VM_STATS = new Method<>("vm.stats", VmRef.class, VmStats.class);
    public static final Method<WorkspaceExportRequest, WorkspaceExportResult> WORKSPACE_EXPORT =
            new Method<>("workspace.export", WorkspaceExportRequest.class, WorkspaceExportResult.class);
    public static final Method<VmLogsRequest, Empty> VM_LOGS =
            new Method<>("vm.logs", VmLogsRequest.class, Empty.class);
    public static final Method<VmConnectRequest, Empty> VM_CONNECT =
            new Method<>("vm.connect", VmConnectRequest.class, Empty.class);

    public static final Method<VmRef, PortList> VM_PORTS = new Method<>("vm.ports", VmRef.class, PortList.class);
    public static final Method<VmCopyRequest, CopyResult> VM_COPY_IN =
            new Method<>("vm.copy-in", VmCopyRequest.class, CopyResult.class);
    public static final Method<VmCopyRequest, CopyResult> VM_COPY_OUT =
            new Method<>("vm.copy-out", VmCopyRequest.class, CopyResult.class);

    public static final Method<SessionStartRequest, SessionView> SESSION_START =
            new Method<>("session.start", SessionStartRequest.class, SessionView.class);
    public static final Method<VmRef, SessionList> SESSION_LIST =
            new Method<>("session.list", VmRef.class, SessionList.class);
    public static final Method<SessionAttachRequest, SessionEnd> SESSION_ATTACH =
            new Method<>("session.attach", SessionAttachRequest.class, SessionEnd.class);
    public static final Method<SessionLogsRequest, SessionEnd> SESSION_LOGS =
            new Method<>("session.logs", SessionLogsRequest.class, SessionEnd.class);
    public static final Method<SessionKillRequest, Empty> SESSION_KILL =
            new Method<>("session.kill", SessionKillRequest.class, Empty.class);
    public static final Method<SessionRef, Empty> SESSION_REMOVE =
            new Method<>("session.remove", SessionRef.class, Empty.class);

    public static final Method<Empty, ImageList> IMAGE_LIST =
            new Method<>("image.list", Empty.class, ImageList.class);
    public static final Method<ImageRef, ImageView> IMAGE_SHOW =
            new Method<>("image.show", ImageRef.class, ImageView.class);
    public static final Method<ImageRegisterRequest, ImageView> IMAGE_REGISTER =
            new Method<>("image.register", ImageRegisterRequest.class, ImageView.class);
    public static final Method<ImagePullRequest, ImageView> IMAGE_PULL =
            new Method<>("image.pull", ImagePullRequest.class, ImageView.class);
    public static final Method<ImagePromoteRequest, ImageView> IMAGE_PROMOTE =
            new Method<>("image.promote", ImagePromoteRequest.class, ImageView.class);
    public static final Method<ImageRef, Empty> IMAGE_DELETE =
            new Method<>("image.delete", ImageRef.class, Empty.class);
    public static final Method<ImageDefaultRequest, ImageView> IMAGE_DEFAULT =
            new Method<>("image.default", ImageDefaultRequest.class, ImageView.class);
    public static final Method<ImageExportRequest, ImageExportResult> IMAGE_EXPORT =
            new Method<>("image.export", ImageExportRequest.class, ImageExportResult.class);
    public static final Method<ImageImportRequest, ImageView> IMAGE_IMPORT =
            new Method<>("image.import", ImageImportRequest.class, ImageView.class);

    public static final Method<Empty, KernelList> KERNEL_LIST =
            new Method<>("kernel.list", Empty.class, KernelList.class);
    public static final Method<KernelRef, KernelView> KERNEL_SHOW =
            new Method<>("kernel.show", KernelRef.class, KernelView.class);
    public static final Method<KernelImportRequest, KernelView> KERNEL_IMPORT =
            new Method<>("kernel.import", KernelImportRequest.class, KernelView.class);
    public static final Method<KernelPullRequest, KernelView> KERNEL_PULL =
            new Method<>("kernel.pull", KernelPullRequest.class, KernelView.class);
    public static final Method<KernelRef, Empty> KERNEL_DELETE =
            new Method<>("kernel.delete", KernelRef.class, Empty.class);
    public static final Method<KernelRef, Empty> KERNEL_DEFAULT =
            new Method<>("kernel.default", KernelRef.class, Empty.class);

    public static final Method<Empty, TemplateList> TEMPLATE_LIST =
            new Method<>("template.list", Empty.class, TemplateList.class);
    public static final Method<TemplatePruneRequest, TemplateList> TEMPLATE_PRUNE =
            new Method<>("template.prune", TemplatePruneRequest.class, TemplateList.class);

    /** All methods, for tests that round-trip every request type. */
    public static final List<Method<?, ?>> ALL = List.of(DAEMON_STATUS, DAEMON_SHUTDOWN, VM_CREATE, VM_ATTACH, VM_LIST,
            VM_SHOW, VM_DELETE, VM_START, VM_STOP, VM_RESUME, VM_RESTART, VM_EXEC, VM_RUN, VM_SET, VM_STATS, VM_LOGS,
            VM_CONNECT, WORKSPACE_EXPORT, VM_PORTS, VM_COPY_IN, VM_COPY_OUT, SESSION_START, SESSION_LIST,
            SESSION_ATTACH, SESSION_LOGS, SESSION_KILL, SESSION_REMOVE, IMAGE_LIST, IMAGE_SHOW, IMAGE_REGISTER,
            IMAGE_PULL, IMAGE_PROMOTE, IMAGE_DELETE, IMAGE_DEFAULT, IMAGE_EXPORT, IMAGE_IMPORT, KERNEL_LIST,
            KERNEL_SHOW, KERNEL_IMPORT, KERNEL_PULL, KERNEL_DELETE, KERNEL_DEFAULT, TEMPLATE_LIST, TEMPLATE_PRUNE);

    private Api() {
    }
}
