package dev.banger.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.api.Event;
import dev.banger.api.VmCreateRequest;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    record Everything(String s, int i, long l, double d, boolean b, Integer boxed, byte[] bytes, int[] ints,
                      List<String> list, Map<String, Integer> map, Path path, Instant at, Kind kind, Nested nested) {
    }

    record Nested(List<Nested> children, String name) {
    }

    enum Kind { ALPHA, BETA }

    @Test
    void roundTripsEveryFieldKind() {
        Everything value = new Everything("héllo \"q\" \\ \n\t\u0001", -7, Long.MAX_VALUE, 1.5, true, null,
                new byte[] {0, 1, (byte) 255}, new int[] {3, -4}, List.of("a", "b"), Map.of("k", 9),
                Path.of("/x/y"), Instant.parse("2026-01-02T03:04:05.123Z"), Kind.BETA,
                new Nested(List.of(new Nested(List.of(), "leaf")), "root"));

        Everything back = Json.read(Json.write(value), Everything.class);

        assertThat(back).usingRecursiveComparison().isEqualTo(value);
        assertThat(Json.write(value)).as("nulls are omitted").doesNotContain("boxed");
    }

    @Test
    void absentFieldsReadAsDefaults() {
        VmCreateRequest request = Json.read("{\"name\":\"a\"}", VmCreateRequest.class);

        assertThat(request.name()).isEqualTo("a");
        assertThat(request.cpus()).isNull();
        assertThat(request.noStart()).isFalse();
    }

    @Test
    void unknownFieldIsAnErrorNamingIt() {
        assertThatThrownBy(() -> Json.read("{\"name\":\"a\",\"cpu\":2}", VmCreateRequest.class))
                .isInstanceOf(JsonException.class)
                .hasMessageContaining("unknown field \"cpu\"");
    }

    @Test
    void typeMismatchNamesTheField() {
        assertThatThrownBy(() -> Json.read("{\"name\":\"a\",\"cpus\":\"two\"}", VmCreateRequest.class))
                .isInstanceOf(JsonException.class)
                .hasMessageContaining("VmCreateRequest.cpus")
                .hasMessageContaining("expected a number");
        assertThatThrownBy(() -> Json.read("{\"name\":\"a\",\"cpus\":3000000000}", VmCreateRequest.class))
                .hasMessageContaining("not a whole number in range");
        assertThatThrownBy(() -> Json.read("{\"name\":\"a\",\"cpus\":1.5}", VmCreateRequest.class))
                .hasMessageContaining("not a whole number");
    }

    @Test
    void sealedInterfacesUseTheTypeField() {
        Event progress = new Event.Progress("boot", "done", null, 12, -1, -1);
        Event output = new Event.Output("stdout", new byte[] {104, 105});

        assertThat(Json.write(progress)).startsWith("{\"type\":\"progress\"");
        assertThat(Json.read(Json.write(progress), Event.class)).isEqualTo(progress);
        Event.Output back = (Event.Output) Json.read(Json.write(output), Event.class);
        assertThat(back.data()).containsExactly(104, 105);
        assertThatThrownBy(() -> Json.read("{\"type\":\"nope\"}", Event.class))
                .hasMessageContaining("unknown type \"nope\"");
    }

    @Test
    void malformedTextIsRejectedWithAnOffset() {
        for (String bad : List.of("", "{", "{\"a\":}", "[1,]", "{\"a\" 1}", "\"unterminated", "tru", "01x",
                "{\"a\":1}}", "\"\\x\"", "\"\\u12\"", "-", "1.", "1e", "{\"a\":1,\"a\":2}")) {
            assertThatThrownBy(() -> Json.parseTree(bad)).as(bad).isInstanceOf(JsonException.class)
                    .hasMessageContaining("at offset");
        }
    }

    @Test
    void deepNestingIsRefusedInsteadOfOverflowingTheStack() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);

        assertThatThrownBy(() -> Json.parseTree(deep)).isInstanceOf(JsonException.class)
                .hasMessageContaining("nested deeper than");
    }

    @Test
    void numbersKeepTheirPrecision() {
        assertThat(Json.parseTree("12345678901234567")).isEqualTo(12345678901234567L);
        assertThat(Json.parseTree("123456789012345678901234567890").toString())
                .isEqualTo("123456789012345678901234567890");
        assertThat(Json.parseTree("-0.5e-3").toString()).isEqualTo("-0.0005");
    }

    @Test
    void escapesAndUnicodeSurviveTheWriter() {
        String tricky = "line\u2028sep \uD83D\uDE00 \u0000 end";

        assertThat(Json.parseTree(Json.write(tricky))).isEqualTo(tricky);
        assertThat(Json.parseTree("\"\\ud83d\\ude00\"")).isEqualTo("\uD83D\uDE00");
    }

    @Test
    void prettyOutputParsesBackToTheSameTree() {
        Object tree = Json.parseTree("{\"a\":[1,{\"b\":null}],\"c\":{}}");

        assertThat(Json.parseTree(Json.writePretty(tree))).isEqualTo(tree);
        assertThat(Json.writePretty(tree)).contains("\n  \"a\": [");
    }
}
