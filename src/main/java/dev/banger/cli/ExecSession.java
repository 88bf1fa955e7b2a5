package dev.banger.cli;

import dev.banger.api.Event;
import dev.banger.api.Method;
import dev.banger.rpc.Input;
import dev.banger.rpc.RpcClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToIntFunction;
import sun.misc.Signal;

/**
 * Runs a guest command with the user's streams ({@code vm exec}, {@code vm run}): its output to stdout/stderr as
 * it arrives, progress of whatever precedes it on stderr, stdin forwarded when asked, Ctrl-C and window-size
 * changes forwarded as signals, and the terminal in raw mode when the command has one.
 */
final class ExecSession {

    private static final int SIGINT = 2;

    private ExecSession() {
    }

    /**
     * Runs the call and returns the command's exit code.
     *
     * @param tty the command runs on a terminal (put ours in raw mode)
     * @param stdin forward our stdin to the command
     */
    static <Q, R> int run(CliContext context, Method<Q, R> method, Q request, boolean tty, boolean stdin,
                          ToIntFunction<R> exitCode) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ProgressPrinter progress = new ProgressPrinter(context.err());
        AtomicReference<Terminal> raw = new AtomicReference<>();
        try (RpcClient.OpenCall<R> call = context.open(method, request)) {
            Signal.handle(new Signal("INT"), s -> sendQuietly(call, Input.signal(SIGINT)));
            if (tty) {
                Signal.handle(new Signal("WINCH"), s -> Terminal.size().ifPresent(size ->
                        sendQuietly(call, Input.resize(size[0], size[1]))));
            }
            if (stdin) {
                Thread forward = new Thread(() -> forwardStdin(System.in, call), "stdin");
                forward.setDaemon(true);
                forward.start();
            }
            R result = call.awaitResult(event -> {
                if (event instanceof Event.Output o) {
                    if (tty && raw.get() == null && Terminal.interactive()) {
                        progress.finish();
                        // Raw from the command's first output on: progress lines before it print cooked.
                        Terminal.raw().ifPresent(raw::set);
                    }
                    PrintStream target = "stderr".equals(o.stream()) ? err : out;
                    target.write(o.data(), 0, o.data().length);
                    target.flush();
                } else {
                    progress.accept(event);
                }
            });
            progress.finish();
            return exitCode.applyAsInt(result);
        } finally {
            if (raw.get() != null) {
                raw.get().close();
            }
        }
    }

    private static <R> void forwardStdin(InputStream in, RpcClient.OpenCall<R> call) {
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

    private static <R> void sendQuietly(RpcClient.OpenCall<R> call, Input input) {
        try {
            call.send(input);
        } catch (RuntimeException e) {
            // The call has ended.
        }
    }
}
