package dev.banger.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.SshdRootfs;
import dev.banger.testkit.SystemSsh;
import dev.banger.testkit.TestAssets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every guest gets whatever its image holds, on one QEMU TCG guest booted twice: its clock follows the
 * host's (at boot and after it was set wrong), its sshd runs with banger's policy although the image's own drop-in
 * says the opposite, the image's /root dotfiles are on the work disk, /root and /root/.ssh get their modes back at
 * every boot, a key the user added survives a restart, and a rotated banger key is trusted at once.
 */
@Tag("vm")
class GuestPostureIT {

    /** How far the guest clock may be from the host's, beyond the bracket's own width. */
    private static final double CLOCK_SLACK_SECONDS = 0.5;
    private static final Pattern ADJTIMEX = Pattern.compile(
            "time\\.tv_sec:\\s+(\\d+)\\s+time\\.tv_usec:\\s+(\\d+)");
    private static final String USER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGuestPostureUserKey alice@laptop";

    @TempDir
    Path dir;
    private BangerHome banger;

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(SshdRootfs.available(), "the host has no /usr/sbin/sshd to put in a test guest");
        banger = BangerHome.create();
        Files.createDirectories(banger.home().resolve("config"));
        Files.writeString(banger.home().resolve("config/config.json"), "{\"guestSyncSeconds\": 2}");
        ok(banger.banger("kernel", "import", "cloud", "--deb", TestAssets.debianCloudKernelDeb().toString()));
        ok(banger.banger("image", "register", "cloudlike", "--rootfs",
                SshdRootfs.buildLikeCloudImage(dir).toString()));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (banger != null) {
            banger.close();
        }
    }

    @Test
    void everyGuestFollowsTheHostClockAndBangersSshPosture() throws Exception {
        ok(banger.banger("vm", "create", "--image", "cloudlike", "--memory", "256M", "--disk", "64M", "fid"));

        // The clock: right after boot, and after it was set an hour back in the guest.
        assertGuestClockFollowsHost("after boot");
        // Read back in the same command: the periodic sync may set it right again before a second exec.
        long hourBack = System.currentTimeMillis() / 1000 - 3600;
        String setBack = ok(exec("sh", "-c", "date -s @" + hourBack + " >/dev/null && date +%s")).stdout().strip();
        assertThat(Long.parseLong(setBack)).as("the guest clock was set an hour back").isLessThan(hourBack + 60);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (guestClockOffset() < -2 && System.nanoTime() < deadline) {
            Thread.sleep(500);
        }
        assertGuestClockFollowsHost("after the periodic sync");

        // sshd: banger's values although the image's 50-cloud-init.conf says the opposite.
        Result effective = ok(exec("/usr/sbin/sshd", "-T", "-h", WorkDiskSeed.GUEST_HOST_KEY));
        assertThat(effective.stdout()).contains("permitrootlogin without-password\n", "pubkeyauthentication yes\n",
                "passwordauthentication no\n", "kbdinteractiveauthentication no\n",
                "authorizedkeysfile /root/.ssh/authorized_keys\n");
        assertThat(ok(exec("cat", "/" + SshdDropIn.PATH)).stdout()).isEqualTo(SshdDropIn.TEXT);
        assertThat(ok(exec("sh", "-c", "tr '\\0' ' ' < /proc/$(pidof sshd | cut -d' ' -f1)/cmdline")).stdout())
                .as("the running sshd got the policy on its command line")
                .contains("-o PermitRootLogin=prohibit-password", "-o PasswordAuthentication=no",
                        "-o KbdInteractiveAuthentication=no", "-o PubkeyAuthentication=yes",
                        "-o AuthorizedKeysFile=/root/.ssh/authorized_keys");
        Path config = dir.resolve("user-ssh/config");
        ok(banger.banger("ssh-config", "install", "--config", config.toString()));
        Result password = ssh(config, "-o", "BatchMode=yes", "-o", "PubkeyAuthentication=no",
                "-o", "PreferredAuthentications=password,keyboard-interactive", "fid.vm", "true");
        assertThat(password.exitCode()).isEqualTo(255);
        assertThat(password.stderr()).as("the server offers public keys only")
                .contains("Permission denied (publickey)");

        // The image's /root, copied into the work disk on its first boot, owners, modes and links kept.
        assertThat(ok(exec("cat", "/root/.profile")).stdout()).isEqualTo("export FROM_IMAGE=yes\n");
        assertThat(ok(exec("stat", "-c", "%a %u %g", "/root/.config/tool/settings")).stdout())
                .isEqualTo("640 1234 2345\n");
        assertThat(ok(exec("readlink", "/root/.vimrc")).stdout()).isEqualTo(".config/tool/settings\n");
        assertThat(exec("test", "-e", "/root/" + WorkDiskSeed.SEED_IMAGE_HOME).exitCode())
                .as("the request is done with").isEqualTo(1);

        // The user breaks the modes, adds a key, removes a dotfile; a restart restores the modes only.
        ok(exec("sh", "-c", "chmod 0777 /root && chmod 0755 /root/.ssh && chown 1000:1000 /root/.ssh"
                + " && echo '" + USER_KEY + "' >> /root/.ssh/authorized_keys && rm /root/.profile"));
        ok(banger.banger(java.time.Duration.ofSeconds(180), "vm", "restart", "fid"));
        assertThat(ok(exec("stat", "-c", "%a %u %g", "/root", "/root/.ssh")).stdout())
                .isEqualTo("755 0 0\n700 0 0\n");
        String oldKey = SshKeyPair.keyData(Files.readString(banger.home().resolve("config/ssh/id_ed25519.pub")));
        assertThat(authorizedKeys()).containsExactly("ssh-ed25519 " + oldKey + " banger", USER_KEY);
        assertThat(exec("test", "-e", "/root/.profile").exitCode()).as("copied on the first boot only")
                .isEqualTo(1);

        // Rotation: banger makes a new key on the next vm ssh, which the guest trusts before ssh connects.
        Files.move(banger.home().resolve("config/ssh/id_ed25519"), dir.resolve("old_id_ed25519"));
        Files.move(banger.home().resolve("config/ssh/id_ed25519.pub"), dir.resolve("old_id_ed25519.pub"));
        Result viaSsh = banger.banger("vm", "ssh", "fid", "--", "id", "-u");
        assertThat(viaSsh.exitCode()).as(viaSsh.output()).isZero();
        assertThat(viaSsh.stdout()).isEqualTo("0\n");
        String newKey = SshKeyPair.keyData(Files.readString(banger.home().resolve("config/ssh/id_ed25519.pub")));
        assertThat(newKey).isNotEqualTo(oldKey);
        assertThat(authorizedKeys()).containsExactly(USER_KEY, "ssh-ed25519 " + newKey + " banger");
    }

    private void assertGuestClockFollowsHost(String when) {
        long before = System.currentTimeMillis();
        double guest = guestClock();
        long after = System.currentTimeMillis();
        System.out.printf("guest clock %s: %+.3f s from the bracket's middle (bracket %d ms)%n", when,
                guest - (before + after) / 2000.0, after - before);
        assertThat(guest).as("guest clock %s, host between %d and %d ms", when, before, after)
                .isBetween(before / 1000.0 - CLOCK_SLACK_SECONDS, after / 1000.0 + CLOCK_SLACK_SECONDS);
    }

    /** Guest minus host in seconds, roughly (the vm exec round trip is in it). */
    private double guestClockOffset() {
        double guest = guestClock();
        return guest - System.currentTimeMillis() / 1000.0;
    }

    /** The guest's wall clock in seconds, read by busybox adjtimex (its date prints no sub-seconds). */
    private double guestClock() {
        String out = ok(exec("adjtimex")).stdout();
        Matcher m = ADJTIMEX.matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return Long.parseLong(m.group(1)) + Long.parseLong(m.group(2)) / 1e6;
    }

    private List<String> authorizedKeys() {
        return ok(exec("cat", "/root/.ssh/authorized_keys")).stdout().lines().toList();
    }

    private Result exec(String... argv) {
        List<String> args = new ArrayList<>(List.of("vm", "exec", "fid", "--"));
        args.addAll(List.of(argv));
        return banger.banger(args.toArray(String[]::new));
    }

    /** The system ssh client, in the test's network namespace (not the daemon's), with the given config. */
    private Result ssh(Path config, String... args) throws Exception {
        return SystemSsh.run(dir, config, args);
    }

    private static Result ok(Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result;
    }
}
