package dev.banger.image.registry;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AuthChallengeTest {

    @Test
    void parse_bearerChallengeWithQuotedCommas() {
        AuthChallenge c = AuthChallenge.parse("Bearer realm=\"https://auth.docker.io/token\","
                + "service=\"registry.docker.io\",scope=\"repository:library/debian:pull,push\"");

        assertThat(c.isBearer()).isTrue();
        assertThat(c.params()).containsEntry("realm", "https://auth.docker.io/token")
                .containsEntry("service", "registry.docker.io")
                .containsEntry("scope", "repository:library/debian:pull,push");
    }

    @Test
    void parse_basicChallenge_andUnknownSchemes() {
        assertThat(AuthChallenge.parse("Basic realm=\"x\"").scheme()).isEqualTo("basic");
        assertThat(AuthChallenge.parse("Negotiate abc")).isNull();
        assertThat(AuthChallenge.parse(null)).isNull();
    }
}
