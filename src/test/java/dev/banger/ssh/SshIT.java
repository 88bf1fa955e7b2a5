package dev.banger.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.banger.json.Json;
import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.SshdRootfs;
import dev.banger.testkit.SystemSsh;
import dev.banger.testkit.TestAssets;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SSH and DNS end to end: a QEMU TCG guest whose image has the host's sshd, reached with the system OpenSSH client
 * as a user would. {@code ssh -F <config> NAME.vm} runs in the test's own network namespace (the host's), outside
 * the daemon's, so it can only get there through banger's ProxyCommand; the host key is checked strictly against
 * the key banger pinned at provisioning. DNS is asked inside the daemon's namespace with busybox's nslookup.
 */
@Tag("vm")
class SshIT {

    @TempDir
    Path dir;
    private BangerHome banger;

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(SshdRootfs.available(), "the host has no /usr/sbin/sshd to put in a test guest");
        banger = BangerHome.create();
        ok(banger.banger("kernel", "import", "cloud", "--deb", TestAssets.debianCloudKernelDeb().toString()));
        ok(banger.banger("image", "register", "sshd", "--rootfs", SshdRootfs.build(dir).toString()));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (banger != null) {
            banger.close();
        }
    }

    @Test
    void sshNameDotVmIsPinnedKeyOnlyAndResolvable() throws Exception {
        ok(banger.banger("vm", "create", "--image", "sshd", "--memory", "256M", "--disk", "64M", "sshvm"));
        String ip = (String) ((Map<?, ?>) Json.parseTree(ok(banger.banger("vm", "show", "sshvm", "--json")).stdout()))
                .get("guestIp");
        Path config = dir.resolve("user-ssh/config");
        assertThat(ok(banger.banger("ssh-config", "install", "--config", config.toString())).stdout())
                .startsWith("installed: " + config);
        Path knownHosts = banger.home().resolve("config/ssh/known_hosts");
        assertThat(Files.readAllLines(knownHosts)).singleElement().asString()
                .startsWith("sshvm.vm," + ip + " ssh-ed25519 ");

        Result hello = ssh(config, "-o", "BatchMode=yes", "sshvm.vm", "echo", "hello from", "$(hostname)");
        assertThat(hello.exitCode()).as(() -> hello.output() + "\nguest console:\n"
                + banger.banger("vm", "logs", "sshvm").stdout() + "\nsshd -t in the guest:\n"
                + banger.banger("vm", "exec", "sshvm", "--", "/usr/sbin/sshd", "-t", "-e", "-h",
                        WorkDiskSeed.GUEST_HOST_KEY).output()).isZero();
        assertThat(hello.stdout()).isEqualTo("hello from sshvm\n");

        Result password = ssh(config, "-o", "BatchMode=yes", "-o", "PubkeyAuthentication=no",
                "-o", "PreferredAuthentications=password,keyboard-interactive", "sshvm.vm", "true");
        assertThat(password.exitCode()).isEqualTo(255);
        assertThat(password.stderr()).as("the server offers public keys only")
                .contains("Permission denied (publickey)");

        String pinned = Files.readString(knownHosts);
        Files.writeString(knownHosts, pinned.replaceFirst("ssh-ed25519 \\S+",
                "ssh-ed25519 " + SshKeyPair.keyData(SshKeyPair.generate("impostor").publicKey())));
        Result impostor = ssh(config, "-o", "BatchMode=yes", "sshvm.vm", "true");
        assertThat(impostor.exitCode()).isEqualTo(255);
        assertThat(impostor.stderr()).as("StrictHostKeyChecking=yes with a pinned key")
                .contains("REMOTE HOST IDENTIFICATION HAS CHANGED");
        Files.writeString(knownHosts, pinned);

        Result viaVmSsh = ok(banger.banger("vm", "ssh", "sshvm", "--", "id", "-u"));
        assertThat(viaVmSsh.stdout()).isEqualTo("0\n");
        Result posture = ok(banger.banger("vm", "exec", "sshvm", "--", "/usr/sbin/sshd", "-T", "-h",
                WorkDiskSeed.GUEST_HOST_KEY));
        assertThat(posture.stdout()).contains("permitrootlogin without-password\n", "pubkeyauthentication yes\n",
                "passwordauthentication no\n", "kbdinteractiveauthentication no\n", "strictmodes yes\n",
                "authorizedkeysfile /root/.ssh/authorized_keys\n");

        assertThat(nslookup("sshvm.vm")).contains("Address: " + ip);
        assertThat(nslookup("example.com")).contains("REFUSED");
        Map<?, ?> doctor = dnsServerCheck();
        assertThat(doctor.get("status")).isEqualTo("PASS");
        assertThat((String) doctor.get("detail")).contains("answers sshvm.vm → " + ip);

        ok(banger.banger("vm", "stop", "sshvm"));
        assertThat(nslookup("sshvm.vm")).as("a stopped VM").contains("NXDOMAIN");
        ok(banger.banger("vm", "delete", "sshvm"));
        assertThat(Files.readString(knownHosts)).as("delete drops the pin").isEmpty();
        assertThat(ok(banger.banger("ssh-config", "uninstall", "--config", config.toString())).stdout())
                .startsWith("removed");
        assertThat(Files.readString(config)).isEmpty();
    }

    @Test
    void vmSshFallsBackToTheAgentWhereTheImageHasNoSshd() throws Exception {
        ok(banger.banger("image", "register", "busybox", "--rootfs", TestAssets.busyboxRootfs().toString()));
        ok(banger.banger("vm", "create", "--image", "busybox", "--memory", "256M", "--disk", "64M", "plain"));

        Result result = banger.banger("vm", "ssh", "plain", "--", "echo", "via", "agent");

        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.stdout()).isEqualTo("via agent\n");
        assertThat(result.stderr()).isEqualTo("banger: VM 'plain' has no sshd (/usr/sbin/sshd); using a shell "
                + "through the guest agent instead\n");
    }

    /** The system ssh client, in the test's network namespace (not the daemon's), with the given config. */
    /**
     * A VM restored from a template (docs/snapshots.md) starts sshd only after personalise mounted its own work disk:
     * it serves its own pinned host key, and two clones of one template never share one.
     */
    @Test
    void clonesRestoredFromATemplateServeSshWithTheirOwnPinnedHostKeys() throws Exception {
        ok(banger.banger("vm", "create", "--image", "sshd", "--memory", "256M", "--disk", "64M", "warm"));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!ok(banger.banger("template", "list", "--json")).stdout().contains("\"id\"")) {
            assertThat(System.nanoTime()).as("a template is built after the first boot").isLessThan(end);
            Thread.sleep(500);
        }
        for (String vm : List.of("clone1", "clone2")) {
            assertThat(ok(banger.banger("vm", "create", "--image", "sshd", "--memory", "256M", "--disk", "64M", vm))
                    .stderr()).contains("restored from template");
        }
        Path config = dir.resolve("user-ssh/config");
        ok(banger.banger("ssh-config", "install", "--config", config.toString()));
        for (String vm : List.of("clone1", "clone2")) {
            Result hello = ssh(config, "-o", "BatchMode=yes", vm + ".vm", "echo", "$(hostname)");
            assertThat(hello.exitCode()).as(() -> hello.output() + "\nguest console:\n"
                    + banger.banger("vm", "logs", vm).stdout()).isZero();
            assertThat(hello.stdout()).isEqualTo(vm + "\n");
        }
        String key1 = ok(banger.banger("vm", "exec", "clone1", "--", "cat", WorkDiskSeed.GUEST_HOST_KEY + ".pub"))
                .stdout();
        String key2 = ok(banger.banger("vm", "exec", "clone2", "--", "cat", WorkDiskSeed.GUEST_HOST_KEY + ".pub"))
                .stdout();
        assertThat(key1).startsWith("ssh-ed25519 ").isNotEqualTo(key2);
    }

    private Result ssh(Path config, String... args) throws Exception {
        return SystemSsh.run(dir, config, args);
    }

    /** busybox nslookup against the daemon's DNS server, inside the daemon's network namespace. */
    private String nslookup(String name) throws Exception {
        List<String> argv = banger.inNetns(List.of(TestAssets.busybox().toString(), "nslookup", "-type=a",
                "-port=5553", name, "127.0.0.1"));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return output;
    }

    private Map<?, ?> dnsServerCheck() {
        Map<?, ?> tree = (Map<?, ?>) Json.parseTree(banger.banger("doctor", "--json").stdout());
        List<?> checks = (List<?>) tree.get("checks");
        return checks.stream().map(c -> (Map<?, ?>) c).filter(c -> "dns-server".equals(c.get("check"))).findFirst()
                .orElseThrow(() -> new AssertionError("no dns-server line in doctor --json: " + tree));
    }

    private static Result ok(Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result;
    }
}
