package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.api.Empty;
import dev.banger.api.Event;
import dev.banger.api.ExecResult;
import dev.banger.api.VmExecRequest;
import dev.banger.api.VmLogsRequest;
import dev.banger.guest.ExecProcess;
import dev.banger.guest.ExecSpec;
import dev.banger.guest.ExitStatus;
import dev.banger.model.Vm;
import dev.banger.rpc.Call;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commands and console output of running VMs, streamed to the client: {@code vm exec} through the guest agent,
 * {@code vm logs} from the serial console file. Neither holds the VM's lock: an exec may run for hours.
 */
public final class VmExec {

    private static final Logger log = LoggerFactory.getLogger(VmExec.class);
    private static final int CHUNK = 32 * 1024;

    private final RunningVms vms;

    public VmExec(RunningVms vms) {
        this.vms = vms;
    }

    public ExecResult exec(VmExecRequest request, Call call) throws InterruptedException {
        if (request.argv() == null || request.argv().isEmpty()) {
            throw BangerException.invalidArgument("name a command to run");
        }
        GuestTarget target = vms.target(request.name());
        Vm vm = target.vm();
        ExecSpec spec = target.command(request.argv(), request.env(), request.cwd(), request.tty(), request.rows(),
                request.cols());
        if (!request.stdin() && !request.tty()) {
            spec = spec.withoutStdin(); // With a terminal, stdin is the terminal even when nothing is typed into it.
        }
        ExecProcess process;
        try {
            process = target.agent().exec(spec);
        } catch (IOException e) {
            throw GuestErrors.of(vm, "VM '" + vm.name() + "'", e);
        }
        call.onCancel(() -> cancelQuietly(process));
        Thread out = GuestIo.pumpOutput(process.stdout(), "stdout", call, "exec-stdout");
        Thread err = GuestIo.pumpOutput(process.stderr(), "stderr", call, "exec-stderr");
        Thread in = request.stdin() ? GuestIo.forwardInput(process, call, "exec-stdin") : null;
        try {
            ExitStatus status = process.waitFor();
            out.join();
            err.join();
            return new ExecResult(status.exitCode(), status.signal().isPresent() ? status.signal().getAsInt() : null);
        } catch (IOException e) {
            throw GuestErrors.of(vm, "VM '" + vm.name() + "'", e);
        } finally {
            if (in != null) {
                in.interrupt();
            }
        }
    }

    /** Streams the console log; with follow, polls for growth until the client goes away. */
    public Empty logs(VmLogsRequest request, Call call) throws InterruptedException {
        Vm vm = vms.find(request.name());
        long position = 0;
        ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
        while (!call.cancelled()) {
            if (Files.exists(vm.logPath())) {
                try (FileChannel ch = FileChannel.open(vm.logPath(), StandardOpenOption.READ)) {
                    if (ch.size() < position) {
                        position = 0; // The VM restarted and its log began anew.
                    }
                    int n;
                    while ((n = ch.read(buffer.clear(), position)) > 0) {
                        position += n;
                        call.emit(new Event.Output("stdout", Arrays.copyOf(buffer.array(), n)));
                    }
                } catch (IOException e) {
                    throw BangerException.unavailable("cannot read " + vm.logPath() + ": " + e.getMessage());
                }
            }
            if (!request.follow()) {
                break;
            }
            Thread.sleep(200);
        }
        return Empty.INSTANCE;
    }

    private static void cancelQuietly(ExecProcess process) {
        try {
            process.cancel();
        } catch (IOException e) {
            log.debug("cancel failed: {}", e.toString());
        }
    }
}
