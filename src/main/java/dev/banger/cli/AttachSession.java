package dev.banger.cli;

import dev.banger.api.Api;
import dev.banger.api.BangerException;
import dev.banger.api.Event;
import dev.banger.api.SessionAttachRequest;
import dev.banger.api.SessionEnd;
import dev.banger.api.SessionView;
import dev.banger.api.VmRef;
import dev.banger.model.Signals;
import dev.banger.rpc.Input;
import dev.banger.rpc.RpcClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;

/**
 * {@code session attach}: the session's earlier output, then live output, with the user's input going to it.
 * A session on a terminal, attached from a terminal, gets the terminal in raw mode (keys go to the session, ^C
 * included) and Ctrl-] d detaches; otherwise the terminal stays as it is and Ctrl-C (or the end of this
 * process) detaches. Detaching never stops the session.
 */
final class AttachSession {

    private AttachSession() {
    }

    /** Returns 0 after detaching, else the session's exit code once it has ended. */
    static int run(CliContext context, String vm, String session) {
        SessionView target = context.call(Api.SESSION_LIST, new VmRef(vm)).sessions().stream()
                .filter(s -> s.name().equals(session)).findFirst()
                .orElseThrow(() -> BangerException.notFound("no session '" + session + "' in VM '" + vm
                        + "'; see: banger session list " + vm));
        boolean interactive = Terminal.interactive();
        boolean keys = interactive && target.tty();
        int[] size = keys ? Terminal.size().orElse(new int[] {0, 0}) : new int[] {0, 0};
        if (interactive) {
            context.err().println("[attached to session " + session + "; " + (keys ? "Ctrl-] d" : "Ctrl-C")
                    + " detaches]");
            context.err().flush();
        }
        PrintStream out = System.out;
        AtomicBoolean detached = new AtomicBoolean();
        SessionEnd end;
        Optional<Terminal> raw = keys ? Terminal.raw() : Optional.empty();
        try (RpcClient.OpenCall<SessionEnd> call = context.open(Api.SESSION_ATTACH,
                new SessionAttachRequest(vm, session, true, size[0], size[1]))) {
            if (keys) {
                Signal.handle(new Signal("WINCH"), s -> Terminal.size().ifPresent(rc ->
                        sendQuietly(call, Input.resize(rc[0], rc[1]))));
            }
            Thread stdin = new Thread(() -> forward(System.in, call, keys ? new DetachKeys() : null, detached),
                    "stdin");
            stdin.setDaemon(true);
            stdin.start();
            try {
                end = call.awaitResult(event -> {
                    if (event instanceof Event.Output o) {
                        out.write(o.data(), 0, o.data().length);
                        out.flush();
                    }
                });
            } catch (BangerException e) {
                if (!detached.get()) {
                    throw e;
                }
                end = new SessionEnd(true, null, null, 0);
            }
        } finally {
            raw.ifPresent(Terminal::close);
        }
        if (end.detached()) {
            context.err().println((keys ? "\r\n" : "") + "[detached from session " + session
                    + "; it keeps running]");
            return BangerCli.EXIT_OK;
        }
        if (end.lostBytes() > 0) {
            context.err().println("[" + end.lostBytes() + " bytes of output were lost: the guest keeps the last "
                    + "MiB and this terminal fell behind]");
        }
        context.err().println("[session " + session + " " + describeEnd(end.exitCode(), end.signal()) + "]");
        return end.exitCode() == null ? BangerCli.EXIT_OK : end.exitCode();
    }

    static String describeEnd(Integer exitCode, Integer signal) {
        if (signal != null) {
            return "killed by " + Signals.name(signal);
        }
        return "exited with code " + exitCode;
    }

    private static void forward(InputStream in, RpcClient.OpenCall<SessionEnd> call, DetachKeys keys,
                                AtomicBoolean detached) {
        byte[] buf = new byte[16 * 1024];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                if (keys == null) {
                    call.send(Input.data(java.util.Arrays.copyOf(buf, n)));
                    continue;
                }
                DetachKeys.Filtered f = keys.filter(buf, 0, n);
                if (f.forward().length > 0) {
                    call.send(Input.data(f.forward()));
                }
                if (f.detach()) {
                    detached.set(true);
                    call.close(); // the daemon sees the client leave and detaches from the session
                    return;
                }
            }
            call.send(Input.eof());
        } catch (IOException | RuntimeException e) {
            // The call ended (or stdin broke): nothing more to forward.
        }
    }

    private static void sendQuietly(RpcClient.OpenCall<SessionEnd> call, Input input) {
        try {
            call.send(input);
        } catch (RuntimeException e) {
            // The call has ended.
        }
    }
}
