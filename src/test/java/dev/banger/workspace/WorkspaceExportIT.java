package dev.banger.workspace;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.SshdRootfs;
import dev.banger.testkit.TestAssets;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Work done in the guest's copy of the repository comes back as a branch, and nothing else on the host moves. */
@Tag("vm")
class WorkspaceExportIT {

    private BangerHome banger;
    private Path repo;

    @BeforeEach
    void setUp() throws Exception {
        banger = BangerHome.create();
        ok(banger.banger("kernel", "import", "cloud", "--deb", TestAssets.debianCloudKernelDeb().toString()));
        Path rootfs = SshdRootfs.buildWithGit(banger.home());
        ok(banger.banger("image", "register", "withgit", "--rootfs", rootfs.toString()));
        repo = banger.home().resolve("project");
        Files.createDirectories(repo);
        git("init", "-q", "-b", "main");
        Files.writeString(repo.resolve("README"), "v1\n");
        git("add", ".");
        commit("first");
        Files.writeString(repo.resolve("local.txt"), "uncommitted on the host\n");
    }

    @AfterEach
    void tearDown() throws Exception {
        banger.close();
    }

    @Test
    void guestCommitsComeBackAsABranchWithoutTouchingTheWorkingTree() throws Exception {
        String hostHead = git("rev-parse", "HEAD");
        Result run = run("vm", "run", "--name", "dev", "--memory", "256M", "--disk", "128M", "--", "sh", "-c",
                "echo v2 > README && git -c user.name=G -c user.email=g@x commit -qam 'from the guest'"
                        + " && echo draft > draft.txt");
        assertThat(run.exitCode()).as(run.output()).isZero();

        Result export = run("workspace", "export", "dev");
        assertThat(export.exitCode()).as(export.output()).isZero();
        assertThat(export.stdout()).startsWith("banger/dev -> ").contains("(1 commits not on your current branch)");
        assertThat(git("log", "-1", "--format=%s", "banger/dev")).isEqualTo("from the guest");
        assertThat(git("show", "banger/dev:README")).isEqualTo("v2");
        assertThat(git("rev-parse", "HEAD")).as("the user's branch did not move").isEqualTo(hostHead);
        assertThat(git("symbolic-ref", "--short", "HEAD")).isEqualTo("main");
        assertThat(Files.readString(repo.resolve("README"))).as("the working tree is untouched").isEqualTo("v1\n");
        assertThat(Files.readString(repo.resolve("local.txt"))).isEqualTo("uncommitted on the host\n");

        Result withDraft = run("workspace", "export", "dev", "--branch", "guest-wip", "--uncommitted");
        assertThat(withDraft.exitCode()).as(withDraft.output()).isZero();
        assertThat(git("show", "guest-wip:draft.txt")).isEqualTo("draft");
        assertThat(git("log", "-1", "--format=%s", "guest-wip~1")).isEqualTo("from the guest");

        Result onCurrent = run("workspace", "export", "dev", "--branch", "main");
        assertThat(onCurrent.exitCode()).as("refused input is a usage error").isEqualTo(2);
        assertThat(onCurrent.stderr()).contains("is the branch checked out here");
    }

    private Result run(String... args) throws Exception {
        List<String> argv = new ArrayList<>();
        argv.add(BangerHome.root().resolve("bin/banger").toString());
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(banger.inNetns(argv)).directory(repo.toFile());
        pb.environment().put("BANGER_HOME", banger.home().toString());
        if (System.getProperty("banger.build.dir") != null) {
            pb.environment().put("BANGER_BUILD_DIR", System.getProperty("banger.build.dir"));
        }
        Path out = Files.createTempFile(banger.home(), "out", ".txt");
        Path err = Files.createTempFile(banger.home(), "err", ".txt");
        Process p = pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(180, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    private void commit(String message) throws Exception {
        git("-c", "user.email=t@example.com", "-c", "user.name=T", "commit", "-q", "-m", message);
    }

    private String git(String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("git", "-C", repo.toString()));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        return out.strip();
    }

    private static Result ok(Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result;
    }
}
