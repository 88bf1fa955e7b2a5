package dev.banger.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.json.Json;
import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.TestAssets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** {@code vm cp} and {@code vm ports} through bin/banger against one real QEMU TCG guest. */
@Tag("vm")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GuestFilesIT {

    private static final Instant OLD = Instant.parse("2003-04-05T06:07:08Z");

    private BangerHome banger;

    @BeforeAll
    void setUp() throws Exception {
        banger = BangerHome.create();
        ok(banger.banger("kernel", "import", "cloud", "--deb", TestAssets.debianCloudKernelDeb().toString()));
        ok(banger.banger("image", "register", "busybox", "--rootfs", TestAssets.busyboxRootfs().toString()));
        ok(banger.banger("vm", "create", "--memory", "256M", "--disk", "128M", "files"));
    }

    @AfterAll
    void tearDown() throws Exception {
        banger.close();
    }

    @Test
    void aTreeWithModesCopiesInAndBackOut() throws Exception {
        Path src = Files.createDirectories(banger.home().resolve("work/proj/sub/deep"));
        Files.writeString(src.getParent().getParent().resolve("run.sh"), "#!/bin/sh\necho ran\n");
        Path proj = banger.home().resolve("work/proj");
        Files.writeString(proj.resolve("secret"), "s3cret\n");
        byte[] data = new byte[9 << 20];
        new Random(3).nextBytes(data);
        Files.write(proj.resolve("sub/data.bin"), data);
        Files.createSymbolicLink(proj.resolve("link"), Path.of("sub/data.bin"));
        Files.setPosixFilePermissions(proj.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-x---"));
        Files.setPosixFilePermissions(proj.resolve("secret"), PosixFilePermissions.fromString("rw-------"));
        Files.setPosixFilePermissions(proj.resolve("sub"), PosixFilePermissions.fromString("rwx--x--x"));
        Files.setLastModifiedTime(proj.resolve("secret"), FileTime.from(OLD));

        Result in = ok(banger.banger("vm", "cp", proj.toString(), "files:/root/"));
        System.out.println("vm cp in: " + in.stderr().strip());
        assertThat(in.stdout()).isEmpty();
        assertThat(in.stderr()).as("a summary for a large copy").contains("copied 3 files, 9.0 MiB in");

        Result listing = ok(banger.banger("vm", "exec", "files", "--", "sh", "-c",
                "cd /root/proj && stat -c '%a %u %n' run.sh secret sub sub/data.bin && readlink link && "
                        + "./run.sh && md5sum sub/data.bin && date -u -r secret +%Y"));
        assertThat(listing.stdout()).startsWith("750 0 run.sh\n600 0 secret\n711 0 sub\n644 0 sub/data.bin\n"
                + "sub/data.bin\nran\n").endsWith("2003\n");

        Path back = banger.home().resolve("back");
        Result out = ok(banger.banger("vm", "cp", "files:/root/proj", back.toString()));
        System.out.println("vm cp out: " + out.stderr().strip());
        assertThat(describe(back)).isEqualTo(describe(proj));

        Files.createDirectory(banger.home().resolve("into"));
        ok(banger.banger("vm", "cp", "files:/etc/passwd", banger.home().resolve("into").toString()));
        assertThat(Files.readString(banger.home().resolve("into/passwd"))).startsWith("root:x:0:0:");
        ok(banger.banger("vm", "cp", banger.home().resolve("into/passwd").toString(), "files:/root/renamed"));
        assertThat(ok(banger.banger("vm", "exec", "files", "--", "cat", "/root/renamed")).stdout())
                .startsWith("root:x:0:0:");

        Result missing = banger.banger("vm", "cp", "files:/no/such", back.toString());
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.stderr()).contains("/no/such: No such file or directory");
        Result both = banger.banger("vm", "cp", "a:/x", "b:/y");
        assertThat(both.exitCode()).as("a usage error").isEqualTo(2);
        assertThat(both.stderr()).contains("between two VM paths is not supported");
    }

    @Test
    void asRootOwnersSetIdBitsFifosAndSymlinksGoInAndComeBack() throws Exception {
        Path d = Files.createDirectories(banger.home().resolve("work/perm/d"));
        Path suid = Files.writeString(d.resolve("suid"), "x\n");
        Files.setAttribute(suid, "unix:uid", 1234);
        Files.setAttribute(suid, "unix:gid", 2345);
        Files.setAttribute(suid, "unix:mode", 04755); // after the owner: chown clears set-id bits
        Files.setAttribute(Files.createDirectory(d.resolve("sticky")), "unix:mode", 01777);
        assertThat(new ProcessBuilder("mkfifo", "-m", "640", d.resolve("fifo").toString()).start().waitFor()).isZero();
        Files.createSymbolicLink(d.resolve("link"), Path.of("suid"));

        Result nope = banger.banger("vm", "cp", d.toString(), "nope:/root/");
        assertThat(nope.exitCode()).isEqualTo(1);
        assertThat(nope.stderr().strip()).startsWith("banger: no such VM: nope");

        ok(banger.banger("vm", "cp", d.toString(), "files:/root/"));
        assertThat(ok(banger.banger("vm", "exec", "files", "--", "sh", "-c",
                "cd /root/d && stat -c '%a %u:%g %F %n' suid fifo sticky && readlink link")).stdout())
                .isEqualTo("4755 1234:2345 regular file suid\n640 0:0 fifo fifo\n1777 0:0 directory sticky\nsuid\n");

        Path back = Files.createDirectories(banger.home().resolve("perm-back"));
        ok(banger.banger("vm", "cp", "files:/root/d", back.toString()));
        Path b = back.resolve("d");
        assertThat(Files.getAttribute(b.resolve("suid"), "unix:mode")).isEqualTo(0104755);
        assertThat(Files.getAttribute(b.resolve("suid"), "unix:uid")).isEqualTo(1234);
        assertThat(Files.getAttribute(b.resolve("suid"), "unix:gid")).isEqualTo(2345);
        assertThat(Files.getAttribute(b.resolve("fifo"), "unix:mode", LinkOption.NOFOLLOW_LINKS)).isEqualTo(0010640);
        assertThat(Files.getAttribute(b.resolve("sticky"), "unix:mode")).isEqualTo(0041777);
        assertThat(Files.readSymbolicLink(b.resolve("link"))).isEqualTo(Path.of("suid"));
    }

    @Test
    void archivesGoOverTcpAndOnTheAgentChannelWhenTheGuestNetworkIsDown() throws Exception {
        byte[] data = new byte[3 << 20];
        new Random(5).nextBytes(data);
        Path file = Files.write(banger.home().resolve("net.bin"), data);
        Path log = banger.stateDir().resolve("logs/bangerd.log");

        ok(banger.banger("vm", "cp", file.toString(), "files:/root/tcp.bin"));
        ok(banger.banger("vm", "cp", "files:/root/tcp.bin", banger.home().resolve("tcp-back.bin").toString()));
        assertThat(Files.readAllBytes(banger.home().resolve("tcp-back.bin"))).isEqualTo(data);
        assertThat(Files.readString(log)).contains("VM files: copy into /root/tcp.bin over TCP",
                "VM files: copy out of /root/tcp.bin over TCP");

        String gateway = ok(banger.banger("vm", "exec", "files", "--", "sh", "-c",
                "ip route | awk '/^default/ {print $3}'")).stdout().strip();
        ok(banger.banger("vm", "exec", "files", "--", "ip", "link", "set", "eth0", "down"));
        try {
            ok(banger.banger("vm", "cp", file.toString(), "files:/root/serial.bin"));
            ok(banger.banger("vm", "cp", "files:/root/serial.bin", banger.home().resolve("serial-back.bin").toString()));
            assertThat(Files.readAllBytes(banger.home().resolve("serial-back.bin"))).isEqualTo(data);
            assertThat(Files.readString(log)).contains("VM files: copy into /root/serial.bin on the agent channel",
                    "VM files: copy out of /root/serial.bin on the agent channel");
        } finally {
            ok(banger.banger("vm", "exec", "files", "--", "ip", "link", "set", "eth0", "up"));
            if (!gateway.isEmpty()) {
                ok(banger.banger("vm", "exec", "files", "--", "ip", "route", "replace", "default", "via", gateway));
            }
        }
    }

    @Test
    void portsShowsAListenerStartedByExec() throws Exception {
        ok(banger.banger("vm", "exec", "files", "--", "httpd", "-p", "8080", "-h", "/tmp"));
        ok(banger.banger("session", "start", "files", "--name", "nc", "--", "nc", "-l", "-p", "7777"));

        Map<?, ?> web = awaitPort(8080);
        assertThat(web.get("protocol")).isEqualTo("tcp");
        assertThat(web.get("command")).isEqualTo("httpd");
        assertThat(awaitPort(7777).get("command")).isEqualTo("nc");
        assertThat(ok(banger.banger("vm", "ports", "files")).stdout())
                .containsPattern("tcp\\s+\\S+\\s+8080\\s+\\d+\\s+httpd");
    }

    private Map<?, ?> awaitPort(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            Result r = ok(banger.banger("vm", "ports", "files", "--json"));
            List<?> ports = (List<?>) ((Map<?, ?>) Json.parseTree(r.stdout())).get("ports");
            for (Object o : ports) {
                Map<?, ?> p = (Map<?, ?>) o;
                if (((Number) p.get("port")).intValue() == port) {
                    return p;
                }
            }
            assertThat(System.nanoTime()).as("port " + port + " listed: " + r.stdout()).isLessThan(deadline);
            Thread.sleep(300);
        }
    }

    /** Every path under root with its type, mode, mtime and content (or link target). */
    private static Map<String, String> describe(Path root) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.toList()) {
                String rel = root.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    out.put(rel, "link " + Files.readSymbolicLink(p));
                    continue;
                }
                String kind = Files.isDirectory(p) ? "dir"
                        : "file " + java.util.Arrays.hashCode(Files.readAllBytes(p));
                out.put(rel, kind + " " + PosixFilePermissions.toString(Files.getPosixFilePermissions(p,
                        LinkOption.NOFOLLOW_LINKS)) + " " + Files.getLastModifiedTime(p).toMillis() / 1000);
            }
        }
        return out;
    }

    private static Result ok(Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result;
    }
}
