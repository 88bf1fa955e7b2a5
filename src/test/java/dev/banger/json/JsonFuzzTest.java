package dev.banger.json;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.api.VmCreateRequest;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Seeded random inputs: reproducible, and each failure message names the seed's iteration. */
class JsonFuzzTest {

    private static final long SEED = 0xBA96E2L;
    private static final String ALPHABET = "{}[]\":,.-+eE0123456789 \t\n\\/ubnrtfal\u00e9\u2028\uD83D\uDE00";

    @Test
    void arbitraryTextEitherParsesOrFailsWithJsonException() {
        Random random = new Random(SEED);
        for (int i = 0; i < 20_000; i++) {
            String text = randomText(random, random.nextInt(60));
            try {
                Object tree = Json.parseTree(text);
                assertThat(Json.parseTree(Json.write(tree))).as("iteration %d: %s", i, text).isEqualTo(tree);
            } catch (JsonException expected) {
                assertThat(expected.getMessage()).isNotBlank();
            }
        }
    }

    @Test
    void numbersBeyondEveryRangeFailWithJsonException() {
        for (String text : new String[] {"1e9999999999", "-1E+99999999999999", "0.5e-9999999999"}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> Json.parseTree(text)).as(text)
                    .isInstanceOf(JsonException.class).hasMessageContaining("number out of range");
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Json.read("{\"cpus\":1e999999999}",
                VmCreateRequest.class)).isInstanceOf(JsonException.class).hasMessageContaining("not a whole number");
    }

    @Test
    void arbitraryStringsRoundTrip() {
        Random random = new Random(SEED);
        for (int i = 0; i < 5_000; i++) {
            StringBuilder sb = new StringBuilder();
            for (int n = random.nextInt(40); n > 0; n--) {
                sb.append((char) random.nextInt(Character.MAX_VALUE + 1));
            }
            String text = sb.toString();
            assertThat(Json.parseTree(Json.write(text))).as("iteration %d", i).isEqualTo(text);
        }
    }

    @Test
    void truncatedRequestsFailOnlyWithJsonException() {
        Random random = new Random(SEED);
        for (int i = 0; i < 2_000; i++) {
            String json = Json.write(new VmCreateRequest(randomText(random, 10), "img", null, 2, 512, 64L, "qemu",
                    true, false));
            String mangled = json.substring(0, random.nextInt(json.length() + 1));
            try {
                Json.read(mangled, VmCreateRequest.class);
            } catch (JsonException expected) {
                // The only acceptable failure.
            }
        }
    }

    private static String randomText(Random random, int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return sb.toString();
    }
}
