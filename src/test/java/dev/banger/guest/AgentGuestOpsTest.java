package dev.banger.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * clock.set and ssh.authorize against a real banger-init in agent mode. Not PID 1, so clock.set measures but never
 * steps (this is the host's clock); ssh.authorize edits the test's {@code --home}.
 */
class AgentGuestOpsTest extends AgentTestBase {

    private static final String BANGER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBangerKeyOne";
    private static final String ROTATED_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBangerKeyTwo";
    private static final String USER_LINE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUserKey alice@laptop";

    private Path authorizedKeys() {
        return dir.resolve("home/.ssh/authorized_keys");
    }

    @Test
    void clockSet_reportsTheOffsetAndNeverStepsOutsidePid1() throws Exception {
        ClockStep behind = client.setClock(Instant.now().plusSeconds(3600), Duration.ZERO);

        assertThat(behind.offsetMs()).as("the host said an hour later").isBetween(-3_601_000L, -3_599_000L);
        assertThat(behind.stepped()).as("agent mode must not touch the clock").isFalse();
        assertThat(Math.abs(client.setClock(Instant.now(), Duration.ofMillis(500)).offsetMs())).isLessThan(500);
    }

    @Test
    void clockAdjust_answersTheGuestsClockAndNeverStepsOutsidePid1() throws Exception {
        Instant before = Instant.now();
        ClockReading reading = client.adjustClock(Duration.ofHours(1));
        Instant after = Instant.now();

        assertThat(reading.stepped()).as("agent mode must not touch the clock").isFalse();
        assertThat(reading.guestTime()).isBetween(before, after);
        assertThat(Instant.now()).isBefore(before.plus(Duration.ofMinutes(30)));
    }

    @Test
    void clockAdjust_aStepOfMoreThanAYearIsRefused() {
        assertThatThrownBy(() -> client.adjustClock(Duration.ofDays(400)))
                .isInstanceOfSatisfying(AgentException.class, e -> {
                    assertThat(e.code()).isEqualTo(AgentError.BAD_REQUEST);
                    assertThat(e.getMessage()).contains("field delta_ms");
                });
    }

    @Test
    void clockSet_badFieldsAreRefusedByName() {
        assertThatThrownBy(() -> client.call(new AgentOp.ClockSet(Instant.ofEpochSecond(-5), Duration.ZERO),
                Duration.ofSeconds(5)))
                .isInstanceOfSatisfying(AgentException.class, e -> {
                    assertThat(e.code()).isEqualTo(AgentError.BAD_REQUEST);
                    assertThat(e.getMessage()).contains("field sec");
                });
    }

    @Test
    void sshAuthorize_addsTheKeyOnceWithModesSshdAccepts() throws Exception {
        assertThat(client.authorize(BANGER_KEY + " whatever", "banger")).isEqualTo(new KeyAuthorization(true, 0));
        assertThat(client.authorize(BANGER_KEY, "banger")).as("idempotent").isEqualTo(new KeyAuthorization(false, 0));

        assertThat(Files.readString(authorizedKeys())).isEqualTo(BANGER_KEY + " banger\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(authorizedKeys())))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(authorizedKeys().getParent())))
                .isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("home"))))
                .isEqualTo("rwxr-xr-x");
    }

    @Test
    void sshAuthorize_keepsUserLinesAndReplacesBangersEarlierKey() throws Exception {
        Files.createDirectories(authorizedKeys().getParent());
        String before = "# my keys\n" + BANGER_KEY + " banger\n" + USER_LINE + "\r\n"
                + "no-pty " + "ssh-rsa AAAAB3NzaC1yc2E banger\n" + "ssh-ed25519 AAAAOther banger-ci\n";
        Files.writeString(authorizedKeys(), before, StandardCharsets.UTF_8);

        assertThat(client.authorize(ROTATED_KEY, "banger")).isEqualTo(new KeyAuthorization(true, 1));

        assertThat(Files.readString(authorizedKeys())).isEqualTo("# my keys\n" + USER_LINE + "\r\n"
                + "no-pty ssh-rsa AAAAB3NzaC1yc2E banger\n" + "ssh-ed25519 AAAAOther banger-ci\n"
                + ROTATED_KEY + " banger\n");
    }

    @Test
    void sshAuthorize_aKeyTheUserAlreadyHasUnderOptionsIsNotAddedAgain() throws Exception {
        Files.createDirectories(authorizedKeys().getParent());
        Files.writeString(authorizedKeys(), "from=\"10.0.0.1\" " + BANGER_KEY + " mine", StandardCharsets.UTF_8);

        assertThat(client.authorize(BANGER_KEY, "banger")).isEqualTo(new KeyAuthorization(false, 0));
    }

    @Test
    void sshAuthorize_refusesASymlinkedSshDirAndBadKeys() throws Exception {
        Files.createDirectories(dir.resolve("elsewhere"));
        Files.createSymbolicLink(dir.resolve("home/.ssh"), dir.resolve("elsewhere"));

        assertThatThrownBy(() -> client.authorize(BANGER_KEY, "banger"))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).isEqualTo(AgentError.IO_ERROR));
        assertThat(dir.resolve("elsewhere/authorized_keys")).doesNotExist();
        assertThatThrownBy(() -> client.authorize("ssh-ed25519", "banger"))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).isEqualTo(AgentError.BAD_REQUEST));
        assertThatThrownBy(() -> client.authorize(BANGER_KEY, "two words"))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).isEqualTo(AgentError.BAD_REQUEST));
    }
}
