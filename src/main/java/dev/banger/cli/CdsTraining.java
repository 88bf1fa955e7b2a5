package dev.banger.cli;

import dev.banger.api.Api;
import dev.banger.api.CopyResult;
import dev.banger.api.Empty;
import dev.banger.api.Event;
import dev.banger.api.VmCopyRequest;
import dev.banger.api.VmList;
import dev.banger.api.VmView;
import dev.banger.config.BangerPaths;
import dev.banger.json.Json;
import dev.banger.rpc.DaemonNotRunningException;
import dev.banger.rpc.HandlerRegistry;
import dev.banger.rpc.Input;
import dev.banger.rpc.PeerPolicy;
import dev.banger.rpc.RpcClient;
import dev.banger.rpc.RpcServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The workload the build runs once with {@code -XX:ArchiveClassesAtExit} to produce the CLI's class-data
 * archive: it loads what a typical command loads (picocli parsing and help, the JSON codec, the RPC client,
 * table output, {@code vm cp}'s archives) without a daemon: commands that reach one talk to a stand-in.
 */
final class CdsTraining {

    private CdsTraining() {
    }

    public static void main(String[] args) throws Exception {
        PrintWriter sink = new PrintWriter(Writer.nullWriter());
        Path home = Files.createTempDirectory("banger-cds");
        try {
            CliContext context = new CliContext(BangerPaths.resolve(
                    Map.of(BangerPaths.HOME_ENV, home.toString()), "/", 0), sink, sink);
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
            againstAStandInDaemon(home, list);
        } finally {
            dev.banger.util.Files2.deleteRecursively(home);
        }
    }

    /**
     * What commands that reach the daemon load: {@code vm list}, and {@code vm cp} both ways (packing, the data
     * frames, the unpacking thread), run as a user types them against a stand-in daemon in this process that
     * speaks the real protocol on a socket of the training's home.
     */
    private static void againstAStandInDaemon(Path home, VmList list) throws IOException {
        Path tree = home.resolve("tree");
        Files.createDirectories(tree.resolve("sub"));
        Files.writeString(tree.resolve("sub/file.txt"), "banger\n");
        Files.createSymbolicLink(tree.resolve("link"), Path.of("sub/file.txt"));
        ByteArrayOutputStream packed = new ByteArrayOutputStream();
        LocalArchive.pack(tree, "tree", packed, true, warning -> { });
        byte[] archive = packed.toByteArray();
        CopyResult copied = new CopyResult(1, 2, 1, 0, 7, 0, List.of());
        HandlerRegistry handlers = new HandlerRegistry()
                .on(Api.VM_LIST, (request, call) -> list)
                .on(Api.VM_COPY_IN, (request, call) -> {
                    call.emit(VmCopyRequest.ready(request.name(), request.path()));
                    Input input;
                    while ((input = call.nextInput(5, TimeUnit.SECONDS)) != null
                            && !Boolean.TRUE.equals(input.stdinEof())) {
                        // The archive goes nowhere.
                    }
                    return copied;
                })
                .on(Api.VM_COPY_OUT, (request, call) -> {
                    call.emitData(archive, 0, archive.length);
                    return copied;
                });
        BangerPaths paths = BangerPaths.resolve(Map.of(BangerPaths.HOME_ENV, home.toString()), "/", 0);
        Files.createDirectories(paths.socket().getParent(),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        RpcServer daemon = new RpcServer(paths.socket(), handlers, PeerPolicy.forCurrentUser(Optional.empty()));
        daemon.start();
        try {
            PrintWriter sink = new PrintWriter(Writer.nullWriter());
            CliContext context = new CliContext(paths, sink, sink);
            Path into = Files.createDirectories(home.resolve("into"));
            for (String[] line : List.of(new String[] {"vm", "list"},
                    new String[] {"vm", "cp", tree.toString(), "demo:/root/"},
                    new String[] {"vm", "cp", "demo:/root/tree", into.toString()})) {
                int exit = BangerCli.commandLine(context, line).setOut(sink).setErr(sink).execute(line);
                if (exit != 0) {
                    throw new IllegalStateException("training: banger " + String.join(" ", line) + " exited " + exit);
                }
            }
        } finally {
            daemon.close();
        }
    }
}
