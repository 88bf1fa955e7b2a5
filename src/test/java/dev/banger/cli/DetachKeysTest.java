package dev.banger.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DetachKeysTest {

    private static final byte P = DetachKeys.PREFIX;

    @Test
    void ordinaryBytesPassThrough() {
        DetachKeys.Filtered f = new DetachKeys().filter(new byte[] {'l', 's', '\r'}, 0, 3);
        assertThat(f.forward()).containsExactly('l', 's', '\r');
        assertThat(f.detach()).isFalse();
    }

    @Test
    void ctrlBracketThenDDetachesAndForwardsWhatCameBefore() {
        DetachKeys.Filtered f = new DetachKeys().filter(new byte[] {'x', P, 'd', 'y'}, 0, 4);
        assertThat(f.forward()).containsExactly('x');
        assertThat(f.detach()).isTrue();
    }

    @Test
    void theSequenceMayArriveInTwoReads() {
        DetachKeys keys = new DetachKeys();
        DetachKeys.Filtered first = keys.filter(new byte[] {'a', P}, 0, 2);
        DetachKeys.Filtered second = keys.filter(new byte[] {'d'}, 0, 1);
        assertThat(first.forward()).containsExactly('a');
        assertThat(first.detach()).isFalse();
        assertThat(second.detach()).isTrue();
    }

    @Test
    void ctrlBracketTwiceSendsOneAndFollowedByAnythingElseSendsBoth() {
        DetachKeys keys = new DetachKeys();
        assertThat(keys.filter(new byte[] {P, P}, 0, 2).forward()).containsExactly(P);
        assertThat(keys.filter(new byte[] {P, 'q'}, 0, 2).forward()).containsExactly(P, 'q');
    }
}
