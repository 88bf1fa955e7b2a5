package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.api.Empty;
import dev.banger.api.Event;
import dev.banger.api.ExecResult;
import dev.banger.api.VmExecRequest;
import dev.banger.api.VmLogsRequest;
import dev.banger.guest.AgentError;
import dev.banger.guest.AgentException;
import dev.banger.guest.ExecProcess;
import dev.banger.guest.ExecSpec;
import dev.banger.guest.ExitStatus;
import dev.banger.model.Image;
import dev.banger.model.Vm;
import dev.banger.rpc.Call;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commands and console output of running VMs, streamed to the client: {@code vm exec} through the guest agent,
 * {@code vm logs} from the serial console file. Neither holds the VM's lock: an exec may run for hours.
 */
public final class VmExec {

    private static final Logger log = LoggerFactory.getLogger(VmExec.class);
    private static final int CHUNK = 32 * 1024;

    private final VmService vms;

    public VmExec(VmService vms) {
        this.vms = vms;
    }

    public ExecResult exec(VmExecRequest request, Call call) throws InterruptedException {
        if (request.argv() == null || request.argv().isEmpty()) {
            throw BangerException.invalidArgument("name a command to run");
        }
        Vm vm = vms.find(request.name());
        Image image = vms.imageOf(vm);
        Map<String, String> env = new LinkedHashMap<>(image.env());
        if (request.env() != null) {
            env.putAll(request.env());
        }
        ExecSpec spec = ExecSpec.of(request.argv()).withEnv(env);
        String cwd = request.cwd() != null ? request.cwd() : image.workingDir();
        if (cwd != null) {
            spec = spec.withCwd(cwd);
        }
        if (request.tty()) {
            spec = spec.withTty(request.rows() > 0 ? request.rows() : 24, request.cols() > 0 ? request.cols() : 80);
        }
        if (!request.stdin() && !request.tty()) {
            spec = spec.withoutStdin(); // With a terminal, stdin is the terminal even when nothing is typed into it.
        }
        ExecProcess process;
        try {
            process = vms.guest(vm).exec(spec);
        } catch (IOException e) {
            throw BangerException.unavailable("cannot run " + request.argv().get(0) + " in VM '" + vm.name() + "': "
                    + e.getMessage());
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
        } catch (AgentException e) {
            if (e.code() == AgentError.EXEC_FAILED) {
                throw BangerException.invalidArgument(e.detail() + " (in VM '" + vm.name() + "')");
            }
            throw BangerException.unavailable("lost VM '" + vm.name() + "' while running " + request.argv().get(0)
                    + ": " + e.getMessage());
        } catch (IOException e) {
            throw BangerException.unavailable("lost VM '" + vm.name() + "' while running " + request.argv().get(0)
                    + ": " + e.getMessage());
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
