package dev.banger.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SuggestionsTest {

    private static final List<String> VM = List.of("create", "start", "stop", "restart", "delete", "list", "ls",
            "show", "set", "run", "exec", "ssh", "logs", "stats", "ports", "cp");

    @Test
    void aMissingLetterSuggestsTheCommandFirst() {
        assertThat(Suggestions.closeTo("stp", VM)).startsWith("stop");
        assertThat(Suggestions.closeTo("dleete", VM)).containsExactly("delete");
        assertThat(Suggestions.closeTo("strat", VM)).startsWith("start");
    }

    @Test
    void aPrefixSuggestsWhatStartsWithIt() {
        assertThat(Suggestions.closeTo("res", VM)).contains("restart");
    }

    @Test
    void nothingCloseSuggestsNothing() {
        assertThat(Suggestions.closeTo("explode", VM)).isEmpty();
    }

    @Test
    void distanceCountsASwapAsOne() {
        assertThat(Suggestions.distance("stpo", "stop")).isEqualTo(1);
        assertThat(Suggestions.distance("", "cp")).isEqualTo(2);
        assertThat(Suggestions.distance("kitten", "sitting")).isEqualTo(3);
    }
}
