package dev.banger.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.testkit.AgentProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * guest.personalise against a real banger-init in agent mode: the request is checked field by field, and nothing
 * is applied outside PID 1 (this is the host: its hostname, clock and network must not change). With
 * {@code --guest-root} the agent judges the sshd step against a model guest, as PID 1 would.
 */
class AgentPersonaliseTest extends AgentTestBase {

    private static Personalisation identity(String hostname) {
        return new Personalisation(hostname, Optional.of(new Personalisation.Network("02:b4:6e:1e:4d:05",
                "172.30.77.5/24", "172.30.77.1", "172.30.77.1")), Instant.now(), new byte[64],
                "0123456789abcdef0123456789abcdef", "/dev/vdb", true);
    }

    @Test
    void aValidRequestIsAcceptedAndNothingIsAppliedOutsidePid1() throws Exception {
        Personalised done = client.personalise(identity("alpha"));

        assertThat(done.applied()).as("agent mode applies no step").isEmpty();
        assertThat(done.skipped()).isEmpty();
    }

    @Test
    void sshdInAnImageWithoutOneIsReportedSkippedWithTheReason() throws Exception {
        Personalised done = personaliseAgainst(Files.createDirectories(dir.resolve("bare")));

        assertThat(done.skipped()).containsExactly(new Personalised.Skipped("sshd",
                "/usr/sbin/sshd is not in this image"));
        assertThat(done.describe()).isEqualTo("sshd not started: /usr/sbin/sshd is not in this image");
    }

    @Test
    void sshdWithoutHostKeysIsReportedSkipped() throws Exception {
        Path root = dir.resolve("nokeys");
        executable(root.resolve("usr/sbin/sshd"));

        assertThat(personaliseAgainst(root).skipped()).extracting(Personalised.Skipped::why)
                .containsExactly("no host keys (/root/.banger/ssh/ssh_host_ed25519_key or /etc/ssh/ssh_host_*_key)");
    }

    @Test
    void sshdWithTheImagesOwnOrBangersHostKeyIsNotSkipped() throws Exception {
        Path imageKeys = dir.resolve("imagekeys");
        executable(imageKeys.resolve("usr/sbin/sshd"));
        Files.createDirectories(imageKeys.resolve("etc/ssh"));
        Files.writeString(imageKeys.resolve("etc/ssh/ssh_host_rsa_key"), "key");
        Path bangerKey = dir.resolve("bangerkey");
        executable(bangerKey.resolve("usr/sbin/sshd"));
        Files.createDirectories(bangerKey.resolve("root/.banger/ssh"));
        Files.writeString(bangerKey.resolve("root/.banger/ssh/ssh_host_ed25519_key"), "key");

        assertThat(personaliseAgainst(imageKeys).skipped()).isEmpty();
        assertThat(personaliseAgainst(bangerKey).skipped()).isEmpty();
    }

    /** guest.personalise sent to an agent that judges the sshd step against {@code guestRoot}. */
    private Personalised personaliseAgainst(Path guestRoot) throws Exception {
        Path agentDir = Files.createTempDirectory(dir, "agent");
        try (AgentProcess rooted = AgentProcess.start(agentDir, List.of("--guest-root", guestRoot.toString()));
             AgentClient rootedClient = rooted.connect()) {
            return rootedClient.personalise(identity("alpha"));
        }
    }

    private static void executable(Path file) throws Exception {
        Files.createDirectories(file.getParent());
        Files.writeString(file, "#!/bin/sh\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void aHostnameThatIsNotADnsLabelIsRefused() {
        assertThatThrownBy(() -> client.personalise(identity("Not_A_Label")))
                .isInstanceOfSatisfying(AgentException.class, e -> {
                    assertThat(e.code()).isEqualTo(AgentError.BAD_REQUEST);
                    assertThat(e.getMessage()).contains("field hostname");
                });
    }

    @Test
    void anotherVersionOfTheOpIsRefusedNamingTheOneTheAgentSpeaks() throws Exception {
        RawConnection raw = new RawConnection(agent.rawSocket());
        try {
            raw.hello();
            raw.send(FrameType.OPEN, 3, "{\"op\":\"guest.personalise\",\"version\":2,\"hostname\":\"alpha\"}");
            Frame f = raw.nextOn(3);
            assertThat(f.type()).as(f.text()).isEqualTo(FrameType.ERROR);
            assertThat(f.text()).contains("version 2 is not supported; this agent speaks 1");
        } finally {
            raw.close();
        }
    }

    @Test
    void macWithoutAnAddressAndShortEntropyAreRefused() {
        assertThatThrownBy(() -> new Personalisation("alpha", Optional.empty(), Instant.now(), new byte[8],
                "0123456789abcdef0123456789abcdef", "/dev/vdb", true)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Duration.ofSeconds(60)).isEqualTo(AgentClient.PERSONALISE_TIMEOUT);
    }
}
