package dev.banger.workspace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.api.BangerException;
import dev.banger.api.ErrorCode;
import dev.banger.host.ClientFiles;
import dev.banger.host.ProcessCommandRunner;
import dev.banger.rpc.Peer;
import dev.banger.testkit.TestUser;
import dev.banger.util.Files2;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code vm run}'s workspace for a client that is not privileged, with a real user (made for the test): read as
 * that user, so what it could not read never reaches the work-disk seed (a root-only file in the repository, the
 * target of a symlink, a repository it cannot enter), and what it can read arrives as root's path lays it out.
 * No VM: the seed is what {@code mkfs.ext4 -d} makes the work disk from.
 */
class PeerWorkspaceIT {

    private static final String SECRET = "root-only secret";

    private TestUser member;
    private Peer peer;
    private Path dir;
    private Path staging;
    private WorkspaceService workspaces;
    private Path repo;
    private Path secret;

    @BeforeEach
    void setUp() throws Exception {
        member = TestUser.create(null);
        peer = new Peer(member.name(), member.name(), false);
        dir = Files.createTempDirectory("banger-peerws-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        staging = dir.resolve("state/tmp/client-inputs");
        workspaces = new WorkspaceService(new ProcessCommandRunner(), new ClientFiles(staging));
        Path secrets = Files.createDirectories(dir.resolve("secrets"));
        Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("rwx------"));
        secret = Files.writeString(secrets.resolve("secret.txt"), SECRET);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--")); // The dir guards it.

        repo = Files.createDirectories(dir.resolve("proj/src"));
        repo = repo.getParent();
        git(repo, "init", "-q", "-b", "main");
        Files.writeString(repo.resolve("committed.txt"), "committed\n");
        Files.writeString(repo.resolve("src/nested.txt"), "nested\n");
        git(repo, "add", ".");
        git(repo, "-c", "user.email=t@example.com", "-c", "user.name=T", "commit", "-q", "-m", "first");
        Files.writeString(repo.resolve("untracked.txt"), "untracked\n");
        Files.createSymbolicLink(repo.resolve("link"), secret);
        run(List.of("chown", "-R", "--no-dereference", member.name() + ":" + member.name(), repo.toString()));
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            Files2.deleteRecursively(dir);
        } finally {
            member.close();
        }
    }

    @Test
    void whatTheUserCanReadArrivesAndASymlinkStaysALink() throws Exception {
        Path seed = Files.createDirectories(dir.resolve("seed"));
        try (Workspace ws = workspaces.find(peer, repo.resolve("src")).orElseThrow()) {
            assertThat(ws.subdirectory()).isEqualTo("src");
            assertThat(ws.branch()).isEqualTo("main");
            assertThat(ws.files()).containsExactlyInAnyOrder("committed.txt", "src/nested.txt", "untracked.txt",
                    "link");
            workspaces.seed(ws, seed);
        }

        Path proj = seed.resolve("proj");
        assertThat(proj.resolve("committed.txt")).hasContent("committed");
        assertThat(proj.resolve("src/nested.txt")).hasContent("nested");
        assertThat(proj.resolve("untracked.txt")).hasContent("untracked");
        assertThat(Files.readSymbolicLink(proj.resolve("link"))).isEqualTo(secret);
        assertThat(gitOut(proj, "log", "--format=%s")).isEqualTo("first\n");
        assertThat(gitOut(proj, "symbolic-ref", "HEAD")).isEqualTo("refs/heads/main\n");
        assertThat(gitOut(proj, "status", "--porcelain")).isEqualTo("?? link\n?? untracked.txt\n");
        assertThat(Files.getOwner(proj.resolve("committed.txt")).getName()).isEqualTo(member.name());
        assertThat(containsSecret(seed)).as("the secret's bytes are nowhere in the seed").isFalse();
        assertThat(staging).as("the private copy is gone once the workspace is closed").isEmptyDirectory();
    }

    @Test
    void aFileOnlyRootCanReadIsRefusedAndLeavesNoCopy() throws Exception {
        Path rootOnly = Files.writeString(repo.resolve("root-only.txt"), SECRET);
        Files.setPosixFilePermissions(rootOnly, PosixFilePermissions.fromString("rw-------"));

        assertThatThrownBy(() -> workspaces.find(peer, repo))
                .isInstanceOfSatisfying(BangerException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.PERMISSION_DENIED);
                    assertThat(e.getMessage()).contains("as user " + member.name(), "root-only.txt",
                            "Permission denied");
                });
        assertThat(staging).isEmptyDirectory();

        // Root (or the daemon's user) reads it as before.
        try (Workspace ws = workspaces.find(Peer.INTERNAL, repo).orElseThrow()) {
            assertThat(ws.files()).contains("root-only.txt");
        }
    }

    @Test
    void aRepositoryTheUserCannotEnterIsRefused() throws Exception {
        Path closed = Files.createDirectories(dir.resolve("secrets/closed"));
        git(closed, "init", "-q");
        Files.writeString(closed.resolve("f.txt"), SECRET);
        Path lockedRepo = Files.createDirectories(dir.resolve("locked"));
        git(lockedRepo, "init", "-q");
        Files.writeString(lockedRepo.resolve("f.txt"), SECRET);
        Files.setPosixFilePermissions(lockedRepo, PosixFilePermissions.fromString("rwx------"));

        assertThatThrownBy(() -> workspaces.find(peer, lockedRepo))
                .isInstanceOfSatisfying(BangerException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.PERMISSION_DENIED);
                    assertThat(e.getMessage()).contains("Permission denied");
                });
        assertThatThrownBy(() -> workspaces.find(peer, closed)).isInstanceOfSatisfying(BangerException.class,
                e -> assertThat(e.getMessage()).contains("that user " + member.name() + " can reach"));
        assertThat(staging.toFile().list()).isNullOrEmpty();
    }

    private static boolean containsSecret(Path root) throws Exception {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                        && new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1).contains(SECRET)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static void git(Path in, String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("git", "-C", in.toString()));
        argv.addAll(List.of(args));
        run(argv);
    }

    private static String gitOut(Path in, String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("git", "-c", "safe.directory=*", "-C", in.toString()));
        argv.addAll(List.of(args));
        return run(argv);
    }

    private static String run(List<String> argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", argv) + ": " + out).isZero();
        return out;
    }
}
