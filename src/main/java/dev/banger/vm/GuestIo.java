package dev.banger.vm;

import dev.banger.api.Event;
import dev.banger.guest.Interactive;
import dev.banger.rpc.Call;
import dev.banger.rpc.Input;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two pumps between an RPC call and a guest process, shared by exec, vm run and session attach: guest output
 * to the client as events, and client input (bytes, end of input, signals, terminal size) to the guest.
 */
public final class GuestIo {

    private static final Logger log = LoggerFactory.getLogger(GuestIo.class);
    private static final int CHUNK = 32 * 1024;

    private GuestIo() {
    }

    /** Streams {@code from} to the client as {@code stream} output events until it ends; closes it. */
    public static Thread pumpOutput(InputStream from, String stream, Call call, String threadName) {
        return start(threadName, () -> {
            byte[] buf = new byte[CHUNK];
            try (from) {
                int n;
                while ((n = from.read(buf)) > 0) {
                    call.emit(new Event.Output(stream, Arrays.copyOf(buf, n)));
                }
            } catch (IOException e) {
                log.debug("{} ended: {}", threadName, e.toString());
            }
        });
    }

    /** Feeds the client's input to {@code target} until it finishes or the client closes its side. */
    public static Thread forwardInput(Interactive target, Call call, String threadName) {
        return start(threadName, () -> {
            OutputStream stdin = target.stdin();
            try {
                while (!target.isFinished()) {
                    Input input = call.nextInput(200, TimeUnit.MILLISECONDS);
                    if (input == null) {
                        if (call.cancelled()) {
                            return;
                        }
                        continue;
                    }
                    if (input.stdin() != null) {
                        stdin.write(input.stdin());
                        stdin.flush();
                    } else if (Boolean.TRUE.equals(input.stdinEof())) {
                        stdin.close();
                    } else if (input.signal() != null) {
                        target.signal(input.signal());
                    } else if (input.resize() != null && input.resize().length == 2) {
                        target.resize(input.resize()[0], input.resize()[1]);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException e) {
                log.debug("{} ended: {}", threadName, e.toString());
            }
        });
    }

    private static Thread start(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }
}
