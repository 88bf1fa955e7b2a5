package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.api.Empty;
import dev.banger.api.VmConnectRequest;
import dev.banger.model.Vm;
import dev.banger.rpc.Call;
import dev.banger.ssh.TcpSplice;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * {@code vm.connect}: a TCP connection from the daemon (which lives in the guest network's namespace) to a port
 * of a running VM, streamed over the RPC call; {@code ssh NAME.vm} reaches the guest's sshd this way through its
 * ProxyCommand. Holds no VM lock: a session may last for hours.
 */
public final class VmConnect {

    static final int SSH_PORT = 22;
    /** Also how long a refused connection is retried: sshd listens a few seconds after a TCG guest boots. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(15);

    private final RunningVms vms;

    public VmConnect(RunningVms vms) {
        this.vms = vms;
    }

    public Empty connect(VmConnectRequest request, Call call) throws InterruptedException {
        int port = request.port() != null ? request.port() : SSH_PORT;
        if (port < 1 || port > 65535) {
            throw BangerException.invalidArgument("port " + port + " is out of range 1..65535");
        }
        Vm vm = vms.find(request.name());
        vms.requireRunning(vm);
        if (vm.guestIp() == null) {
            throw BangerException.failedPrecondition("VM '" + vm.name() + "' has no network address");
        }
        TcpSplice.run(new InetSocketAddress(vm.guestIp(), port), CONNECT_TIMEOUT,
                "port " + port + " of VM '" + vm.name() + "'", call);
        return Empty.INSTANCE;
    }
}
