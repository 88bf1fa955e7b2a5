package dev.banger.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NamesTest {

    @ParameterizedTest
    @ValueSource(strings = {"a", "demo", "vm-1", "0", "a1b2", "x23456789012345678901234567890123456789012345678901234567890123"})
    void dnsLabelsAreValid(String name) {
        assertThat(Names.isValid(name)).isTrue();
        assertThat(Names.requireValid("VM", name)).isEqualTo(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-a", "a-", "A", "has_underscore", "dot.name", "sp ace", "ü",
            "x234567890123456789012345678901234567890123456789012345678901234", "../etc", "a/b"})
    void everythingElseIsRejectedWithAClearMessage(String name) {
        assertThat(Names.isValid(name)).isFalse();
        assertThatThrownBy(() -> Names.requireValid("image", name))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid image name")
                .hasMessageContaining("lowercase letters, digits or '-'");
    }

    @org.junit.jupiter.api.Test
    void nullIsRejected() {
        assertThatThrownBy(() -> Names.requireValid("VM", null)).hasMessageContaining("(none)");
    }
}
