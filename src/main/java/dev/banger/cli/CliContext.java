package dev.banger.cli;

import dev.banger.api.Event;
import dev.banger.api.Method;
import dev.banger.config.BangerPaths;
import dev.banger.rpc.DaemonNotRunningException;
import dev.banger.rpc.RpcClient;
import java.io.PrintWriter;
import java.util.function.Consumer;

/** What every command shares: paths, output streams, and a daemon client that starts the daemon on demand. */
final class CliContext {

    private final BangerPaths paths;
    private final PrintWriter out;
    private final PrintWriter err;
    private final DaemonLauncher launcher;

    CliContext(BangerPaths paths, PrintWriter out, PrintWriter err) {
        this.paths = paths;
        this.out = out;
        this.err = err;
        this.launcher = new DaemonLauncher(paths);
    }

    BangerPaths paths() {
        return paths;
    }

    PrintWriter out() {
        return out;
    }

    PrintWriter err() {
        return err;
    }

    DaemonLauncher launcher() {
        return launcher;
    }

    /** Calls the daemon, starting it first when it is not running. */
    <Q, R> R call(Method<Q, R> method, Q request) {
        return call(method, request, event -> { });
    }

    /** Opens a call that takes input (exec), starting the daemon first when it is not running. */
    <Q, R> RpcClient.OpenCall<R> open(Method<Q, R> method, Q request) {
        RpcClient client = new RpcClient(paths.socket());
        try {
            return client.open(method, request);
        } catch (DaemonNotRunningException e) {
            launcher.start();
            return client.open(method, request);
        }
    }

    /** Calls the daemon with an event listener, starting it first when it is not running. */
    <Q, R> R call(Method<Q, R> method, Q request, Consumer<Event> events) {
        RpcClient client = new RpcClient(paths.socket());
        try {
            return client.call(method, request, events);
        } catch (DaemonNotRunningException e) {
            launcher.start();
            return client.call(method, request, events);
        }
    }
}
