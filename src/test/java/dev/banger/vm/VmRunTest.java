package dev.banger.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.api.BangerException;
import dev.banger.api.ErrorCode;
import dev.banger.api.Event;
import dev.banger.api.VmRunRequest;
import dev.banger.api.VmRunResult;
import dev.banger.api.WorkspaceExportRequest;
import dev.banger.host.ClientFiles;
import dev.banger.host.ProcessCommandRunner;
import dev.banger.rpc.Call;
import dev.banger.rpc.Peer;
import dev.banger.testkit.RecordingCall;
import dev.banger.workspace.WorkspaceService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code workspace export}'s failures as the user sees them, against a {@link FakeHost}. */
class VmRunTest {

    @TempDir
    Path tmp;

    private FakeHost host;
    private VmRun run;

    @BeforeEach
    void setUp() throws Exception {
        host = new FakeHost(tmp);
        run = new VmRun(host.lifecycle, host.running, new VmExec(host.running),
                new WorkspaceService(new ProcessCommandRunner(), new ClientFiles(tmp.resolve("client-inputs"))));
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        host.close();
    }

    @Test
    void anAgentLostDuringAnExportIsReportedAsTheLostGuestNotAnInternalError() throws Exception {
        host.create("exporter");
        // The fake guest's files are the host's: a repository whose bundle is far bigger than the agent's
        // output window, so the agent is still sending when it dies.
        Path repo = Files.createDirectories(tmp.resolve("repo"));
        byte[] big = new byte[4 << 20];
        new Random(7).nextBytes(big);
        Files.write(repo.resolve("blob.bin"), big);
        git(repo, "init", "-q");
        git(repo, "add", "blob.bin");
        git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "big");
        AtomicBoolean killed = new AtomicBoolean();
        Call killsTheGuestAtTheFirstBytes = new RecordingCall(event -> {
            if (event instanceof Event.Output && killed.compareAndSet(false, true)) {
                try {
                    host.vmm.crash(host.record("exporter").id());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });

        assertThatThrownBy(() -> run.export(new WorkspaceExportRequest("exporter", repo.toString(), false),
                killsTheGuestAtTheFirstBytes))
                .isInstanceOfSatisfying(BangerException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
                    assertThat(e.getMessage()).contains("lost the guest agent of VM 'exporter'");
                });
    }

    @Test
    void exportOfANonRepositorySaysSo() throws Exception {
        host.create("plain");
        Path dir = Files.createDirectories(tmp.resolve("not-a-repo"));

        assertThatThrownBy(() -> run.export(new WorkspaceExportRequest("plain", dir.toString(), false),
                Call.detached()))
                .isInstanceOfSatisfying(BangerException.class, e -> assertThat(e.getMessage())
                        .contains("is not a git repository"));
    }

    @Test
    void aWorkspaceBiggerThanTheGivenDiskIsRefusedBeforeAnythingIsCreated() throws Exception {
        Path repo = bigRepository(40);

        assertThatThrownBy(() -> run.run(request(repo, 64L), Call.detached()))
                .isInstanceOfSatisfying(BangerException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).as("the file and its git object, 40 MiB each, and a fifth more").matches("the workspace needs 1[0-9][0-9]M; --disk 64M is too small.*");
                });
        assertThat(host.vmStore.list()).isEmpty();
    }

    @Test
    void withoutDiskTheWorkDiskIsSizedToFitTheWorkspace() throws Exception {
        Path repo = bigRepository(40);

        VmRunResult result = run.run(request(repo, null), Call.detached());

        assertThat(result.exitCode()).isZero();
        assertThat(host.record(result.name()).diskMib()).as("the 64M default grows to hold 2 x 40 MiB and room")
                .isGreaterThan(80 + VmResources.WORK_DISK_HEADROOM_MIB);
    }

    @Test
    void outsideAGitCheckoutTheRunSaysOnceThatNoWorkspaceIsCopied() throws Exception {
        Path plain = Files.createDirectories(tmp.resolve("plain"));
        RecordingCall call = new RecordingCall();

        VmRunResult result = run.run(request(plain, null), call);

        assertThat(result.exitCode()).isZero();
        assertThat(call.output("stderr")).isEqualTo("banger: " + plain + " is not in a git checkout, so the VM gets no "
                + "workspace (--no-workspace says that is what you meant)\n");
    }

    @Test
    void theWorkspaceKnowsWhichSubdirectoryTheUserIsIn() throws Exception {
        Path repo = Files.createDirectories(tmp.resolve("proj"));
        Files.createDirectories(repo.resolve("a/b"));
        Files.writeString(repo.resolve("a/b/f.txt"), "x");
        git(repo, "init", "-q");

        WorkspaceService workspaces = new WorkspaceService(new ProcessCommandRunner(), new ClientFiles(tmp));
        var ws = workspaces.find(Peer.INTERNAL, repo.resolve("a/b")).orElseThrow();

        assertThat(ws.subdirectory()).isEqualTo("a/b");
        assertThat(ws.guestDirectory()).isEqualTo("/root/proj/a/b");
        assertThat(workspaces.find(Peer.INTERNAL, repo).orElseThrow().guestDirectory())
                .isEqualTo("/root/proj");
    }

    /** A repository with one committed file of {@code mib} MiB (random, so git cannot compress it). */
    private Path bigRepository(int mib) throws Exception {
        Path repo = Files.createDirectories(tmp.resolve("big"));
        byte[] data = new byte[mib << 20];
        new Random(11).nextBytes(data);
        Files.write(repo.resolve("data.bin"), data);
        git(repo, "init", "-q");
        git(repo, "add", "data.bin");
        git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "data");
        return repo;
    }

    private static VmRunRequest request(Path workspace, Long diskMib) {
        return new VmRunRequest(null, null, null, null, null, diskMib, null, false, workspace.toString(), "/",
                List.of("true"), null, false, 0, 0, false, false);
    }

    private static void git(Path dir, String... args) throws Exception {
        String[] argv = new String[args.length + 3];
        argv[0] = "git";
        argv[1] = "-C";
        argv[2] = dir.toString();
        System.arraycopy(args, 0, argv, 3, args.length);
        Process p = new ProcessBuilder(argv).inheritIO().start();
        assertThat(p.waitFor()).as("git %s", String.join(" ", args)).isZero();
    }
}
