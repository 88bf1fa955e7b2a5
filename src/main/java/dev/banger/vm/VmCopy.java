package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.api.CopyResult;
import dev.banger.api.ErrorCode;
import dev.banger.api.VmCopyRequest;
import dev.banger.guest.AgentException;
import dev.banger.guest.CopyStats;
import dev.banger.guest.FileCopyIn;
import dev.banger.guest.FileCopyOut;
import dev.banger.host.network.Ipv4Network;
import dev.banger.model.Vm;
import dev.banger.rpc.Call;
import dev.banger.rpc.Input;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code vm cp}: tar archives between the client and a running guest. The daemon only relays bytes, as RPC data
 * frames on the client's side and, on the guest's, a TCP connection to the guest's address (agent STDIN/STDOUT
 * frames when it cannot be made): the client packs and unpacks its own
 * files (they are the user's, and the daemon runs as root), the guest agent does the same on its side with its own
 * safety checks. Flow control runs end to end: a slow guest slows the client's input, a slow client slows the
 * guest's reads.
 */
public final class VmCopy {

    private static final Logger log = LoggerFactory.getLogger(VmCopy.class);
    /** The most archive bytes sent to the client in one data frame (a read takes what the guest has sent). */
    private static final int CHUNK = 256 * 1024;

    private final RunningVms vms;
    private final boolean overNetwork;

    /** @param overNetwork whether archives may go over TCP on the guest network ({@code network.copyOverNetwork}) */
    public VmCopy(RunningVms vms, boolean overNetwork) {
        this.vms = vms;
        this.overNetwork = overNetwork;
    }

    /** Extracts the archive the client sends as input at {@code path} in the guest. */
    public CopyResult copyIn(VmCopyRequest request, Call call) throws InterruptedException {
        String path = guestPath(request.path());
        GuestTarget target = vms.target(request.name());
        Vm vm = target.vm();
        FileCopyIn copy;
        try {
            copy = target.agent().writeFile(path, overTcp(vm));
        } catch (IOException e) {
            throw failure(vm, path, e);
        }
        log.info("VM {}: copy into {} {}", vm.name(), path, copy.overTcp() ? "over TCP" : "on the agent channel");
        call.onCancel(() -> cancelQuietly(copy::cancel));
        call.emit(VmCopyRequest.ready(vm.name(), path));
        OutputStream archive = copy.archive();
        try {
            while (true) {
                Input input = call.nextInput(500, TimeUnit.MILLISECONDS);
                if (input == null) {
                    if (call.cancelled()) {
                        throw new BangerException(ErrorCode.CANCELLED, "the client went away during the copy");
                    }
                    if (copy.isFinished()) {
                        break; // refused early: the result says why
                    }
                    continue;
                }
                if (input.stdin() != null) {
                    try {
                        archive.write(input.stdin());
                    } catch (AgentException e) {
                        throw failure(vm, path, e);
                    } catch (IOException e) {
                        break; // the guest ended the copy early; its verdict follows
                    }
                } else if (Boolean.TRUE.equals(input.stdinEof())) {
                    break;
                }
            }
            return result(copy.finish());
        } catch (IOException e) {
            throw failure(vm, path, e);
        }
    }

    /** Sends an archive of {@code path} in the guest to the client as output events. */
    public CopyResult copyOut(VmCopyRequest request, Call call) throws InterruptedException {
        String path = guestPath(request.path());
        GuestTarget target = vms.target(request.name());
        Vm vm = target.vm();
        FileCopyOut copy;
        try {
            copy = target.agent().readFile(path, overTcp(vm));
        } catch (IOException e) {
            throw failure(vm, path, e);
        }
        log.info("VM {}: copy out of {} {}", vm.name(), path, copy.overTcp() ? "over TCP" : "on the agent channel");
        call.onCancel(() -> cancelQuietly(copy::cancel));
        byte[] buf = new byte[CHUNK];
        try (InputStream archive = copy.archive()) {
            int n;
            while ((n = archive.read(buf)) > 0) {
                call.emitData(buf, 0, n);
            }
            if (call.cancelled()) {
                throw new BangerException(ErrorCode.CANCELLED, "the client went away during the copy");
            }
            return result(copy.finish());
        } catch (IOException e) {
            throw failure(vm, path, e);
        }
    }

    /**
     * The guest's address, which the archive goes to over TCP when the agent can take it there (several times
     * cheaper than the agent channel under QEMU, docs/agent-protocol.md); null for a VM without a network.
     */
    private InetAddress overTcp(Vm vm) {
        if (!overNetwork || vm.guestIp() == null) {
            return null;
        }
        try {
            return Ipv4Network.inetAddress(vm.guestIp());
        } catch (IllegalArgumentException e) {
            log.warn("VM {} has guest address '{}', not an IP address; copying on the agent channel", vm.name(),
                    vm.guestIp());
            return null;
        }
    }

    private static String guestPath(String path) {
        if (path == null || !path.startsWith("/")) {
            throw BangerException.invalidArgument("the path in the VM must be absolute (NAME:/path), not '"
                    + path + "'");
        }
        return path;
    }

    private static CopyResult result(CopyStats s) {
        return new CopyResult(s.files(), s.dirs(), s.symlinks(), s.others(), s.bytes(), s.skipped(), s.warnings());
    }

    private static BangerException failure(Vm vm, String path, IOException e) {
        return GuestErrors.of(vm, "VM '" + vm.name() + "', " + path, e);
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private static void cancelQuietly(IoAction cancel) {
        try {
            cancel.run();
        } catch (IOException e) {
            log.debug("cancelling a copy: {}", e.toString());
        }
    }
}
