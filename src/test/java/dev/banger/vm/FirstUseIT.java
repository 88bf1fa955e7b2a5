package dev.banger.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.json.Json;
import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.Ext4Inspector;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A fresh host: the first VM brings its own kernel (apt-get download of Debian's cloud kernel) and default image
 * (debootstrap from the host's apt mirror). Needs Debian's mirror, so the daemon runs in the host's network
 * namespace; it boots nothing (--no-start), so no bridge or tap is created there.
 */
@Tag("vm")
class FirstUseIT {

    private BangerHome banger;

    @BeforeEach
    void setUp() throws Exception {
        banger = BangerHome.createInHostNamespace();
    }

    @AfterEach
    void tearDown() throws Exception {
        banger.close();
    }

    @Test
    void theFirstVmFetchesAKernelAndBuildsTheDefaultImage() {
        long t0 = System.nanoTime();
        Result create = banger.banger(Duration.ofMinutes(30), "vm", "create", "--no-start", "--disk", "64M", "first");
        System.out.printf("FirstUseIT: first use (kernel pull + default image) took %.0f s%n",
                (System.nanoTime() - t0) / 1e9);

        assertThat(create.exitCode()).as(create.output()).isZero();
        assertThat(create.stderr()).contains("no image yet: building the default image", "debootstrap",
                "no kernel yet: pulling the default kernel");
        assertThat(create.stderr()).as("debootstrap's stages and packages as they go")
                .contains("debootstrap: Resolving dependencies of required packages", "debootstrap: retrieving packages (",
                        "debootstrap: unpacking packages (", "debootstrap: configuring packages (",
                        "debootstrap: Base system installed successfully.");
        Map<?, ?> vm = json(banger.banger("vm", "show", "first", "--json"));
        String image = (String) vm.get("image");
        assertThat(image).startsWith("debian-");
        assertThat((String) vm.get("kernel")).endsWith("cloud-amd64");

        Map<?, ?> shown = json(banger.banger("image", "show", image, "--json"));
        Ext4Inspector disk = new Ext4Inspector(Path.of((String) shown.get("rootfsPath")));
        assertThat(disk.exists("/usr/sbin/sshd")).isTrue();
        for (String tool : List.of("/usr/bin/make", "/usr/bin/gcc", "/usr/bin/g++", "/usr/bin/git", "/usr/bin/curl",
                "/usr/bin/python3", "/usr/bin/ps", "/usr/bin/less", "/usr/bin/ip", "/usr/bin/ping",
                "/etc/ssl/certs/ca-certificates.crt")) {
            assertThat(disk.exists(tool)).as("a developer sandbox has %s", tool).isTrue();
        }
        assertThat(disk.exists("/etc/ssh/ssh_host_ed25519_key")).as("no host keys shared between VMs").isFalse();
        assertThat(disk.exists("/" + dev.banger.ssh.SshdDropIn.PATH)).isTrue();

        Result second = banger.banger("vm", "create", "--no-start", "--disk", "64M", "second");
        assertThat(second.stderr()).as("defaults are built once").doesNotContain("no image yet", "no kernel yet");
        assertThat((List<?>) json(banger.banger("image", "list", "--json")).get("images")).hasSize(1);
    }

    private static Map<?, ?> json(Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        return (Map<?, ?>) Json.parseTree(result.stdout());
    }
}
