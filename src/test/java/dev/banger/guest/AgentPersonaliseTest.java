package dev.banger.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * guest.personalise against a real banger-init in agent mode: the request is checked field by field, and nothing
 * is applied outside PID 1 (this is the host: its hostname, clock and network must not change).
 */
class AgentPersonaliseTest extends AgentTestBase {

    private static Personalisation identity(String hostname) {
        return new Personalisation(hostname, Optional.of(new Personalisation.Network("02:b4:6e:1e:4d:05",
                "172.30.77.5/24", "172.30.77.1", "172.30.77.1")), Instant.now(), new byte[64],
                "0123456789abcdef0123456789abcdef", "/dev/vdb", true);
    }

    @Test
    void aValidRequestIsAcceptedAndNothingIsAppliedOutsidePid1() throws Exception {
        assertThat(client.personalise(identity("alpha"))).as("agent mode applies no step").isEmpty();
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
