package dev.banger.ssh;

import dev.banger.api.Event;
import dev.banger.rpc.Input;
import dev.banger.rpc.RpcClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * The CLI's half of {@code banger vm ssh-proxy}: the process's stdin and stdout (ssh's ProxyCommand pipes) joined
 * to an open {@code vm.connect} call. Returns when the daemon ends the call (the guest closed the connection).
 */
public final class ProxyPump {

    private ProxyPump() {
    }

    /**
     * Pumps until the call's result arrives. Does not close {@code in} or {@code out}; the caller closes
     * {@code call}.
     *
     * @throws dev.banger.api.BangerException the daemon's error (e.g. nothing listens on the guest's port)
     */
    public static <R> R run(RpcClient.OpenCall<R> call, InputStream in, OutputStream out) {
        Thread stdin = new Thread(() -> forward(in, call), "proxy-stdin");
        stdin.setDaemon(true);
        stdin.start();
        return call.awaitResult(event -> {
            if (event instanceof Event.Output o) {
                try {
                    out.write(o.data());
                    out.flush();
                } catch (IOException e) {
                    throw new UncheckedIOException("the proxy's output closed: " + e.getMessage(), e);
                }
            }
        });
    }

    /** The VM name in a host name ssh passes as {@code %h}: {@code Demo.VM} and {@code demo.vm.} are VM demo. */
    public static String vmNameOf(String host) {
        String h = host.strip().toLowerCase(java.util.Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        return h.endsWith(".vm") ? h.substring(0, h.length() - 3) : h;
    }

    private static void forward(InputStream in, RpcClient.OpenCall<?> call) {
        byte[] buf = new byte[32 * 1024];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (n > 0) {
                    call.send(Input.data(Arrays.copyOf(buf, n)));
                }
            }
            call.send(Input.eof());
        } catch (IOException | RuntimeException e) {
            // The call ended or stdin broke: nothing more to forward.
        }
    }
}
