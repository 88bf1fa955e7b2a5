package dev.banger.cli;

import dev.banger.api.Api;
import dev.banger.api.Empty;
import dev.banger.api.Event;
import dev.banger.api.VmList;
import dev.banger.api.VmView;
import dev.banger.config.BangerPaths;
import dev.banger.json.Json;
import dev.banger.rpc.DaemonNotRunningException;
import dev.banger.rpc.RpcClient;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The workload the build runs once with {@code -XX:ArchiveClassesAtExit} to produce the CLI's class-data
 * archive: it loads what a typical command loads (picocli parsing and help, the JSON codec, the RPC client,
 * table output) without needing a daemon.
 */
final class CdsTraining {

    private CdsTraining() {
    }

    public static void main(String[] args) throws Exception {
        PrintWriter sink = new PrintWriter(Writer.nullWriter());
        Path home = Files.createTempDirectory("banger-cds");
        try {
            CliContext context = new CliContext(BangerPaths.resolve(
                    java.util.Map.of(BangerPaths.HOME_ENV, home.toString()), "/", 0), sink, sink);
            for (String[] line : List.of(new String[] {"vm", "list", "--help"}, new String[] {"--help"},
                    new String[] {"vm", "show", "x", "--help"}, new String[] {"image", "list", "--help"})) {
                BangerCli.commandLine(context, line).setOut(sink).setErr(sink).execute(line);
            }
            VmView vm = new VmView("0123456789ab", "demo", "running", null, null, "qemu", "img", "k", 2, 1024,
                    4096, "10.0.0.2", "demo.vm", "/d", "/l", 42L, null, "2026-01-01T00:00:00Z",
                    "2026-01-01T00:00:00Z", null, null);
            VmList list = Json.read(Json.writeBytes(new VmList(List.of(vm))), VmList.class);
            Output.json(sink, list);
            new Output.Table("A", "B").row(list.vms().get(0).name(), 1).print(sink);
            Json.read(Json.write(new Event.Progress("s", "done", "d", 1, 2, 3)), Event.class);
            try {
                new RpcClient(home.resolve("absent.sock")).call(Api.VM_LIST, Empty.INSTANCE);
            } catch (DaemonNotRunningException expected) {
                // The connect path is what we wanted loaded.
            }
        } finally {
            dev.banger.util.Files2.deleteRecursively(home);
        }
    }
}
