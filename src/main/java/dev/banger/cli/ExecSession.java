package dev.banger.cli;

import dev.banger.api.Api;
import dev.banger.api.Event;
import dev.banger.api.ExecResult;
import dev.banger.api.VmExecRequest;
import dev.banger.rpc.Input;
import dev.banger.rpc.RpcClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Optional;
import sun.misc.Signal;

/**
 * Runs a command in a VM with the user's streams: output to stdout/stderr as it arrives, stdin forwarded when
 * asked, Ctrl-C and window-size changes forwarded as signals, the terminal in raw mode for {@code -t}.
 */
final class ExecSession {

    private static final int SIGINT = 2;

    private ExecSession() {
    }

    /** Runs {@code request} and returns the command's exit code. */
    static int run(CliContext context, VmExecRequest request) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        Optional<Terminal> raw = request.tty() && Terminal.interactive() ? Terminal.raw() : Optional.empty();
        try (RpcClient.OpenCall<ExecResult> call = context.open(Api.VM_EXEC, request)) {
            Signal.handle(new Signal("INT"), s -> sendQuietly(call, Input.signal(SIGINT)));
            if (request.tty()) {
                Signal.handle(new Signal("WINCH"), s -> Terminal.size().ifPresent(size ->
                        sendQuietly(call, Input.resize(size[0], size[1]))));
            }
            if (request.stdin()) {
                Thread stdin = new Thread(() -> forwardStdin(System.in, call), "stdin");
                stdin.setDaemon(true);
                stdin.start();
            }
            ExecResult result = call.awaitResult(event -> {
                if (event instanceof Event.Output o) {
                    PrintStream target = "stderr".equals(o.stream()) ? err : out;
                    target.write(o.data(), 0, o.data().length);
                    target.flush();
                }
            });
            return result.exitCode();
        } finally {
            raw.ifPresent(Terminal::close);
        }
    }

    private static void forwardStdin(InputStream in, RpcClient.OpenCall<ExecResult> call) {
        byte[] buf = new byte[16 * 1024];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                call.send(Input.data(Arrays.copyOf(buf, n)));
            }
            call.send(Input.eof());
        } catch (IOException | RuntimeException e) {
            // The call ended (or stdin broke): nothing more to forward.
        }
    }

    private static void sendQuietly(RpcClient.OpenCall<ExecResult> call, Input input) {
        try {
            call.send(input);
        } catch (RuntimeException e) {
            // The call has ended.
        }
    }
}
