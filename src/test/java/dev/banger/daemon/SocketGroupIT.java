package dev.banger.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.FakeKernel;
import dev.banger.testkit.TestAssets;
import dev.banger.testkit.TestUser;
import dev.banger.util.Files2;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code socketGroup} with real users (made for the test, removed after): members reach the daemon, others do not
 * (neither through the socket's mode nor, when the socket is opened up, past the peer check), and a member cannot
 * make the root daemon read a file it cannot read itself: not directly, not through a symlink, not as an image,
 * a layout, an archive, a kernel or {@code vm run}'s workspace (PeerWorkspaceIT shows what a workspace copied
 * as a member holds).
 */
class SocketGroupIT {

    private BangerHome banger;
    private String group;
    private TestUser member;
    private TestUser outsider;
    private Path memberDir;

    @BeforeEach
    void setUp() throws Exception {
        banger = BangerHome.create();
        group = TestUser.createGroup();
        member = TestUser.create(group);
        outsider = TestUser.create(null);
        Files.setPosixFilePermissions(banger.home(), PosixFilePermissions.fromString("rwx--x--x"));
        Files.createDirectories(banger.home().resolve("config"));
        Files.writeString(banger.home().resolve("config/config.json"), "{\"socketGroup\": \"" + group + "\"}");
        memberDir = Files.createTempDirectory("banger-member-");
        Files.setOwner(memberDir, principal(member.name()));
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            banger.close();
        } finally {
            Files2.deleteRecursively(memberDir);
            member.close();
            outsider.close();
            TestUser.deleteGroup(group);
        }
    }

    @Test
    void membersOfTheSocketGroupUseTheDaemonAndNobodyElseDoes() throws Exception {
        Result status = banger.banger("image", "list"); // Starts the daemon.
        assertThat(status.exitCode()).as(status.output()).isZero();

        PosixFileAttributes runDir = attributes(banger.socket().getParent());
        PosixFileAttributes socket = attributes(banger.socket());
        assertThat(PosixFilePermissions.toString(runDir.permissions())).isEqualTo("rwx--x---");
        assertThat(runDir.group().getName()).isEqualTo(group);
        assertThat(PosixFilePermissions.toString(socket.permissions())).isEqualTo("rw-rw----");
        assertThat(socket.group().getName()).isEqualTo(group);

        Result memberList = banger.bangerAs(member, "image", "list");
        assertThat(memberList.exitCode()).as(memberList.output()).isZero();

        Result outsiderList = banger.bangerAs(outsider, "image", "list");
        assertThat(outsiderList.exitCode()).as(outsiderList.output()).isNotZero();

        // A socket opened to everyone still serves only the daemon's user, root and the group.
        Files.setPosixFilePermissions(banger.socket().getParent(), PosixFilePermissions.fromString("rwx--x--x"));
        Files.setPosixFilePermissions(banger.socket(), PosixFilePermissions.fromString("rw-rw-rw-"));
        Result refused = banger.bangerAs(outsider, "image", "list");
        assertThat(refused.exitCode()).as(refused.output()).isNotZero();
        assertThat(refused.stderr()).contains("user " + outsider.name() + " may not use this daemon");
        assertThat(banger.bangerAs(member, "image", "list").exitCode()).isZero();
    }

    @Test
    void aMemberCannotHaveTheDaemonReadWhatItCannotRead() throws Exception {
        assertThat(banger.banger("image", "list").exitCode()).isZero(); // Starts the daemon.
        // World-readable files in a directory only root can enter: the directory is what protects them.
        Path secret = banger.home().resolve("secret");
        Files.createDirectories(secret);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rwx------"));
        Path rootfs = FakeKernel.writeRootfs(secret.resolve("x.ext4"));
        Path kernel = FakeKernel.write(secret.resolve("vmlinuz"));
        Path layout = Files.createDirectories(secret.resolve("layout"));
        Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Files.writeString(layout.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[]}");
        Path archive = secret.resolve("archive.tar");
        Files.write(archive, new byte[10240]);
        for (Path p : new Path[] {rootfs, kernel, archive, layout.resolve("oci-layout"), layout.resolve("index.json")}) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
        }
        Path link = memberDir.resolve("link.ext4");
        Files.createSymbolicLink(link, rootfs);
        Path linkDir = memberDir.resolve("layout-link");
        Files.createSymbolicLink(linkDir, layout);

        assertDenied(banger.bangerAs(member, "image", "register", "stolen", "--rootfs", rootfs.toString()));
        assertDenied(banger.bangerAs(member, "image", "register", "stolen", "--rootfs", link.toString()));
        assertDenied(banger.bangerAs(member, "image", "pull", "--name", "stolen", "oci-layout:" + layout));
        assertDenied(banger.bangerAs(member, "image", "pull", "--name", "stolen", "oci-layout:" + linkDir));
        assertDenied(banger.bangerAs(member, "image", "pull", "--name", "stolen", "docker-archive:" + archive));
        assertDenied(banger.bangerAs(member, "kernel", "import", "stolen", "--kernel", kernel.toString()));
        assertThat(banger.banger("image", "list").stdout()).doesNotContain("stolen");
        assertThat(banger.banger("kernel", "list").stdout()).doesNotContain("stolen");

        // What the member can read, it can use: its own file, read as itself, becomes the image.
        Path own = FakeKernel.writeRootfs(memberDir.resolve("own.ext4"));
        Files.setOwner(own, principal(member.name()));
        Files.setPosixFilePermissions(own, PosixFilePermissions.fromString("rw-------"));
        Result registered = banger.bangerAs(member, "image", "register", "mine", "--rootfs", own.toString());
        assertThat(registered.exitCode()).as(registered.output()).isZero();
        assertThat(banger.banger("image", "list").stdout()).containsPattern("(?m)^mine ");
        assertThat(Files.size(banger.stateDir().resolve("images/mine/rootfs.ext4"))).isEqualTo(Files.size(own));
        assertThat(banger.stateDir().resolve("tmp/client-inputs")).as("no copy left behind")
                .satisfies(dir -> assertThat(Files.list(dir).count()).isZero());

        // Root, as before, registers what root can read.
        Result rootRegister = banger.banger("image", "register", "roots", "--rootfs", rootfs.toString());
        assertThat(rootRegister.exitCode()).as(rootRegister.output()).isZero();
    }

    @Test
    void aMembersVmRunReadsTheWorkspaceAsTheMember() throws Exception {
        assertThat(banger.banger("image", "list").exitCode()).isZero(); // Starts the daemon.
        // The member's own repository with a file only root can read. (A repository the member cannot enter is
        // refused as well, PeerWorkspaceIT; the CLI cannot be run from one: the JVM loses such a working dir.)
        Path ownRepo = Files.createDirectories(memberDir.resolve("own-repo"));
        git(ownRepo, "init", "-q");
        Files.writeString(ownRepo.resolve("mine.txt"), "mine\n");
        new ProcessBuilder("chown", "-R", member.name(), ownRepo.toString()).start().waitFor();
        Path rootOnly = Files.writeString(ownRepo.resolve("root-only.txt"), "root-only\n");
        Files.setPosixFilePermissions(rootOnly, PosixFilePermissions.fromString("rw-------"));

        // Refused before any VM is made: the workspace is read as the member, who cannot read it.
        Result rootOnlyFile = banger.bangerAsIn(member, ownRepo, "vm", "run", "--name", "stolen", "--", "true");
        assertDenied(rootOnlyFile);
        assertThat(rootOnlyFile.stderr()).contains("root-only.txt");
        assertThat(banger.banger("vm", "list").stdout()).doesNotContain("stolen");
        assertThat(banger.stateDir().resolve("tmp/client-inputs")).as("no copy left behind")
                .satisfies(dir -> assertThat(Files.list(dir).count()).isZero());
    }

    @Test
    @Tag("vm")
    void aMembersVmRunGetsWhatTheMemberCanReadAndASymlinkOnlyAsALink() throws Exception {
        assertThat(banger.banger("kernel", "import", "cloud", "--deb", TestAssets.debianCloudKernelDeb().toString())
                .exitCode()).isZero();
        assertThat(banger.banger("image", "register", "busybox", "--rootfs", TestAssets.busyboxRootfs().toString())
                .exitCode()).isZero();
        Path secrets = Files.createDirectories(banger.home().resolve("secrets"));
        Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("rwx------"));
        Path secret = Files.writeString(secrets.resolve("secret.txt"), "root-only\n");
        Path repo = Files.createDirectories(memberDir.resolve("repo"));
        git(repo, "init", "-q");
        Files.writeString(repo.resolve("mine.txt"), "mine\n");
        Files.createSymbolicLink(repo.resolve("link"), secret);
        new ProcessBuilder("chown", "-R", "-h", member.name(), repo.toString()).start().waitFor();

        Result run = banger.bangerAsIn(java.time.Duration.ofMinutes(4), member, repo, "vm", "run", "--rm",
                "--memory", "256M", "--", "sh", "-c", "cat mine.txt; readlink link; cat link || echo no-secret");

        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.stdout()).isEqualTo("mine\n" + secret + "\nno-secret\n");
        assertThat(banger.stateDir().resolve("tmp/client-inputs")).as("no copy left behind")
                .satisfies(dir -> assertThat(Files.list(dir).count()).isZero());
    }

    private static void git(Path dir, String... args) throws Exception {
        java.util.List<String> argv = new java.util.ArrayList<>(java.util.List.of("git", "-C", dir.toString()));
        argv.addAll(java.util.List.of(args));
        assertThat(new ProcessBuilder(argv).inheritIO().start().waitFor()).isZero();
    }

    private void assertDenied(Result result) {
        assertThat(result.exitCode()).as(result.output()).isNotZero();
        assertThat(result.stderr()).as(result.output()).containsAnyOf("Permission denied",
                "that user " + member.name() + " can");
    }

    private static PosixFileAttributes attributes(Path path) throws Exception {
        return Files.getFileAttributeView(path, PosixFileAttributeView.class).readAttributes();
    }

    private static UserPrincipal principal(String user) throws Exception {
        return path().getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(user);
    }

    private static Path path() {
        return Path.of("/");
    }

}
