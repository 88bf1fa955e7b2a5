package dev.banger.vmm.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.json.Json;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The project's description of Firecracker's API as read from the test resources, and the validator on bodies. */
class FirecrackerApiSpecTest {

    static FirecrackerApiSpec spec;

    @BeforeAll
    static void load() {
        spec = FirecrackerApiSpec.load();
    }

    private static List<String> values(String type, String field) {
        return ((FirecrackerApiSpec.Choice) spec.struct(type).fields().get(field)).values();
    }

    @Test
    void load_readsTheTypesAndEndpointsBangerUses() {
        assertThat(spec.version()).as("the upstream version the description follows").isEqualTo("1.17.0-dev");
        assertThat(spec.struct("Drive").required()).containsExactly("drive_id", "is_root_device");
        assertThat(spec.struct("InstanceInfo").required())
                .containsExactlyInAnyOrder("app_name", "id", "state", "vmm_version");
        assertThat(values("InstanceInfo", "state")).containsExactly("Not started", "Running", "Paused");
        assertThat(values("Drive", "cache_type")).containsExactly("Unsafe", "Writeback");
        assertThat(((FirecrackerApiSpec.Choice) spec.struct("Logger").fields().get("level")).ignoreCase())
                .as("Firecracker documents Logger.level as case-insensitive").isTrue();
        assertThat(spec.struct("MachineConfiguration").fields().get("vcpu_count"))
                .isEqualTo(new FirecrackerApiSpec.Scalar("integer", java.math.BigDecimal.ONE,
                        java.math.BigDecimal.valueOf(32)));
        assertThat(spec.type("CpuTemplate")).isInstanceOfSatisfying(FirecrackerApiSpec.Choice.class, c ->
                assertThat(c.values()).contains("None", "T2"));
    }

    @Test
    void load_describesTheSnapshotEndpoints() {
        assertThat(spec.bodyType("PUT", "/snapshot/create")).hasValue("SnapshotCreateParams");
        assertThat(spec.struct("SnapshotCreateParams").required()).containsExactly("mem_file_path", "snapshot_path");
        assertThat(values("SnapshotCreateParams", "snapshot_type")).containsExactly("Full", "Diff");
        assertThat(spec.bodyType("PUT", "/snapshot/load")).hasValue("SnapshotLoadParams");
        assertThat(spec.struct("SnapshotLoadParams").required()).containsExactly("snapshot_path");
        assertThat(spec.struct("SnapshotLoadParams").exactlyOneOf()).containsExactly("mem_backend", "mem_file_path");
        assertThat(spec.struct("MemoryBackend").required()).containsExactly("backend_type", "backend_path");
        assertThat(values("MemoryBackend", "backend_type")).containsExactly("File", "Uffd");
        assertThat(spec.bodyType("PATCH", "/vm")).hasValue("Vm");
        assertThat(values("Vm", "state")).containsExactly("Paused", "Resumed");

        assertThat(spec.validate(Json.parseTree("{\"snapshot_path\":\"/s\",\"mem_backend\":{\"backend_type\":"
                + "\"File\",\"backend_path\":\"/m\"},\"resume_vm\":true}"), "SnapshotLoadParams")).isEmpty();
        assertThat(spec.validate(Json.parseTree("{\"snapshot_path\":\"/s\"}"), "SnapshotLoadParams"))
                .extracting(FirecrackerApiSpec.Problem::serde)
                .containsExactly("exactly one of `mem_backend`, `mem_file_path` is required");
        assertThat(spec.validate(Json.parseTree("{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\","
                + "\"mem_backend\":{\"backend_type\":\"Tape\",\"backend_path\":\"/m\"}}"), "SnapshotLoadParams"))
                .extracting(FirecrackerApiSpec.Problem::kind)
                .containsExactlyInAnyOrder(FirecrackerApiSpec.Problem.Kind.CHOICE,
                        FirecrackerApiSpec.Problem.Kind.ENUM);
        assertThat(spec.validate(Json.parseTree("{\"state\":\"Stopped\"}"), "Vm"))
                .extracting(FirecrackerApiSpec.Problem::serde)
                .containsExactly("unknown variant `Stopped`, expected one of `Paused`, `Resumed`");
    }

    @Test
    void endpoints_resolvePathTemplatesBodiesAndAnswers() {
        assertThat(spec.bodyType("PUT", "/drives/root")).hasValue("Drive");
        assertThat(spec.bodyType("PUT", "/network-interfaces/eth0")).hasValue("NetworkInterface");
        assertThat(spec.bodyType("PUT", "/actions")).hasValue("InstanceActionInfo");
        assertThat(spec.bodyType("PUT", "/machine-config")).isPresent();
        assertThat(spec.bodyType("GET", "/")).isEmpty();
        assertThat(spec.bodyType("PUT", "/drives/")).as("an empty path variable matches nothing").isEmpty();
        assertThat(spec.answer("PUT", "/vsock", 204)).hasValue(new FirecrackerApiSpec.Answer(204, null));
        assertThat(spec.answer("PUT", "/vsock", 400)).hasValue(new FirecrackerApiSpec.Answer(400, "Error"));
        assertThat(spec.answer("PUT", "/vsock", 200)).as("a body endpoint succeeds with 204").isEmpty();
        assertThat(spec.answer("GET", "/", 200)).hasValue(new FirecrackerApiSpec.Answer(200, "InstanceInfo"));
        assertThat(spec.endpoint("PUT", "/balloon")).hasValueSatisfying(e ->
                assertThat(e.described()).as("listed so the fake can say it does not implement it").isFalse());
        assertThat(spec.endpoint("PUT", "/nonsense")).isEmpty();
    }

    @Test
    void validate_acceptsAWellFormedBody() {
        Object body = Json.parseTree("{\"drive_id\":\"root\",\"path_on_host\":\"/x\",\"is_root_device\":false,"
                + "\"is_read_only\":false,\"cache_type\":\"Writeback\"}");
        assertThat(spec.validate(body, "Drive")).isEmpty();
        assertThat(spec.validate(Json.parseTree("{\"level\":\"warning\"}"), "Logger"))
                .as("Logger.level is documented as case-insensitive").isEmpty();
        assertThat(spec.validate(Json.parseTree("{\"drive_id\":\"root\",\"is_root_device\":true,\"partuuid\":null}"),
                "Drive")).as("null in an optional field is serde's None").isEmpty();
    }

    @Test
    void validate_reportsMissingUnknownWrongTypeEnumAndRange() {
        List<FirecrackerApiSpec.Problem> problems = spec.validate(Json.parseTree(
                "{\"vcpu_count\":\"2\",\"smt\":1,\"huge_pages\":\"1G\",\"frobnicate\":true}"), "MachineConfiguration");
        assertThat(problems).extracting(FirecrackerApiSpec.Problem::kind).containsExactlyInAnyOrder(
                FirecrackerApiSpec.Problem.Kind.MISSING, FirecrackerApiSpec.Problem.Kind.TYPE,
                FirecrackerApiSpec.Problem.Kind.TYPE, FirecrackerApiSpec.Problem.Kind.ENUM,
                FirecrackerApiSpec.Problem.Kind.UNKNOWN);
        assertThat(problems).extracting(FirecrackerApiSpec.Problem::serde).contains(
                "missing field `mem_size_mib`",
                "invalid type: string \"2\", expected an integer",
                "unknown variant `1G`, expected one of `None`, `Transparent`, `2M`");
        assertThat(spec.validate(Json.parseTree("{\"vcpu_count\":33,\"mem_size_mib\":128}"),
                "MachineConfiguration")).extracting(FirecrackerApiSpec.Problem::kind)
                .containsExactly(FirecrackerApiSpec.Problem.Kind.RANGE);
        assertThat(spec.validate(Json.parseTree("{\"metrics_path\":\"/m\",\"properties\":{\"a\":\"b\"}}"),
                "Metrics")).as("a map field allows any key").isEmpty();
        assertThat(spec.validate(Json.parseTree("{\"metrics_path\":\"/m\",\"properties\":{\"a\":1}}"), "Metrics"))
                .extracting(FirecrackerApiSpec.Problem::serde)
                .containsExactly("invalid type: integer `1`, expected a string");
        assertThat(spec.validate(Json.parseTree("{\"drive_id\":\"r\",\"is_root_device\":true,\"rate_limiter\":"
                + "{\"ops\":{\"size\":-1}}}"), "Drive")).extracting(FirecrackerApiSpec.Problem::toString)
                .as("nested types are checked with their path").containsExactlyInAnyOrder(
                        "rate_limiter.ops.refill_time: missing field `refill_time`",
                        "rate_limiter.ops.size: `rate_limiter.ops.size` must be at least 0, got -1");
    }

    @Test
    void parse_refusesADescriptionWithTyposOrDanglingTypes() {
        String base = "{\"upstream\":{\"version\":\"1\"},\"endpoints\":{%s},\"types\":{\"Error\":{\"fields\":"
                + "{\"fault_message\":\"string\"}}%s}}";
        assertThat(FirecrackerApiSpec.parse(base.formatted("\"GET /\":{\"answer\":\"Error\"}", "")).version())
                .isEqualTo("1");
        assertThatThrownBy(() -> FirecrackerApiSpec.parse(base.formatted("\"PUT /x\":{\"body\":\"Nope\"}", "")))
                .hasMessageContaining("endpoint PUT /x names type Nope, which is not defined");
        assertThatThrownBy(() -> FirecrackerApiSpec.parse(base.formatted("",
                ",\"A\":{\"fields\":{\"b\":\"[Nope]\"}}")))
                .hasMessageContaining("type A field b names type Nope");
        assertThatThrownBy(() -> FirecrackerApiSpec.parse(base.formatted("",
                ",\"A\":{\"fields\":{\"b\":\"string\"},\"requird\":[\"b\"]}")))
                .hasMessageContaining("type A has an unknown key \"requird\"");
        assertThatThrownBy(() -> FirecrackerApiSpec.parse(base.formatted("",
                ",\"A\":{\"fields\":{\"b\":\"string\"},\"required\":[\"c\"]}")))
                .hasMessageContaining("type A names c, which is not one of its fields");
        assertThatThrownBy(() -> FirecrackerApiSpec.parse(base.formatted("\"POST /x\":{}", "")))
                .hasMessageContaining("is not \"GET|PUT|PATCH /path\"");
    }
}
