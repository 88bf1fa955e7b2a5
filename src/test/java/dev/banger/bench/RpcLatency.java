package dev.banger.bench;

import dev.banger.api.Api;
import dev.banger.api.Empty;
import dev.banger.api.VmCreateRequest;
import dev.banger.config.BangerPaths;
import dev.banger.daemon.Bangerd;
import dev.banger.rpc.RpcClient;
import dev.banger.util.Files2;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * RPC round-trip latency inside one JVM: a real daemon (store, services, socket) and a client calling vm.list
 * with 10 VM records. Run with bench/rpc-latency.sh; prints median, p90 and p99 in microseconds.
 */
public final class RpcLatency {

    private RpcLatency() {
    }

    public static void main(String[] args) throws Exception {
        int calls = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
        Path home = Files.createTempDirectory("banger-bench");
        Bangerd daemon = Bangerd.start(BangerPaths.resolve(Map.of(BangerPaths.HOME_ENV, home.toString()), "/", 0));
        try {
            RpcClient client = new RpcClient(daemon.paths().socket());
            for (int i = 0; i < 10; i++) {
                client.call(Api.VM_CREATE, new VmCreateRequest("bench-" + i, null, null, null, null, null, null,
                        true, false));
            }
            for (int i = 0; i < 2000; i++) {
                client.call(Api.VM_LIST, Empty.INSTANCE);
            }
            long[] micros = new long[calls];
            for (int i = 0; i < calls; i++) {
                long t0 = System.nanoTime();
                client.call(Api.VM_LIST, Empty.INSTANCE);
                micros[i] = (System.nanoTime() - t0) / 1000;
            }
            Arrays.sort(micros);
            System.out.printf("rpc vm.list (10 VMs), %d calls: median %d us, p90 %d us, p99 %d us%n", calls,
                    micros[calls / 2], micros[calls * 9 / 10], micros[calls * 99 / 100]);
        } finally {
            daemon.close();
            Files2.deleteRecursively(home);
        }
    }
}
