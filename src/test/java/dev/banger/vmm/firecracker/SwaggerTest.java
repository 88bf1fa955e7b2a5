package dev.banger.vmm.firecracker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.json.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The YAML subset reader on Firecracker's real swagger file, and the validator on bodies right and wrong. */
class SwaggerTest {

    static Swagger swagger;

    @BeforeAll
    static void load() throws Exception {
        swagger = Swagger.load();
    }

    @Test
    void load_readsTheDefinitionsAndPathsBanger() {
        assertThat(swagger.version()).isEqualTo("1.17.0-dev");
        assertThat(Swagger.list(swagger.definition("Drive").get("required")))
                .containsExactly("drive_id", "is_root_device");
        assertThat(Swagger.list(swagger.definition("InstanceInfo").get("required")))
                .containsExactlyInAnyOrder("app_name", "id", "state", "vmm_version");
        Map<String, Object> state = Swagger.map(Swagger.map(swagger.definition("InstanceInfo").get("properties"))
                .get("state"));
        assertThat(Swagger.list(state.get("enum"))).containsExactly("Not started", "Running", "Paused");
        Map<String, Object> cacheType = Swagger.map(Swagger.map(swagger.definition("Drive").get("properties"))
                .get("cache_type"));
        assertThat(Swagger.list(cacheType.get("enum"))).containsExactly("Unsafe", "Writeback");
        assertThat(swagger.definition("MachineConfiguration").get("description").toString())
                .startsWith("Describes the number of vCPUs");
        assertThat(swagger.definition("Logger").get("description").toString())
                .isEqualTo("Describes the configuration option for the logging capability.");
        assertThat(Swagger.map(Swagger.map(swagger.definition("MachineConfiguration").get("properties"))
                .get("huge_pages")).get("description").toString()).startsWith("Which huge pages configuration");
    }

    @Test
    void bodySchema_resolvesPathTemplatesAndParameters() {
        assertThat(swagger.bodySchema("PUT", "/drives/root")).hasValueSatisfying(s ->
                assertThat(s.get("$ref")).isEqualTo("#/definitions/Drive"));
        assertThat(swagger.bodySchema("PUT", "/network-interfaces/eth0")).hasValueSatisfying(s ->
                assertThat(s.get("$ref")).isEqualTo("#/definitions/NetworkInterface"));
        assertThat(swagger.bodySchema("PUT", "/actions")).hasValueSatisfying(s ->
                assertThat(s.get("$ref")).isEqualTo("#/definitions/InstanceActionInfo"));
        assertThat(swagger.bodySchema("PUT", "/machine-config")).isPresent();
        assertThat(swagger.bodySchema("GET", "/")).isEmpty();
        assertThat(swagger.response("PUT", "/vsock", 204)).isPresent();
        assertThat(swagger.response("PUT", "/vsock", 400)).hasValueSatisfying(r ->
                assertThat(Swagger.map(r.get("schema")).get("$ref")).isEqualTo("#/definitions/Error"));
        assertThat(swagger.response("GET", "/", 200)).hasValueSatisfying(r ->
                assertThat(Swagger.map(r.get("schema")).get("$ref")).isEqualTo("#/definitions/InstanceInfo"));
    }

    @Test
    void validate_acceptsAWellFormedBody() {
        Object body = Json.parseTree("{\"drive_id\":\"root\",\"path_on_host\":\"/x\",\"is_root_device\":false,"
                + "\"is_read_only\":false,\"cache_type\":\"Writeback\"}");
        assertThat(swagger.validate(body, "Drive")).isEmpty();
        assertThat(swagger.validate(Json.parseTree("{\"level\":\"warning\"}"), "Logger"))
                .as("Logger.level is documented as case-insensitive").isEmpty();
    }

    @Test
    void validate_reportsMissingUnknownWrongTypeEnumAndRange() {
        List<Swagger.Problem> problems = swagger.validate(Json.parseTree(
                "{\"vcpu_count\":\"2\",\"smt\":1,\"huge_pages\":\"1G\",\"frobnicate\":true}"), "MachineConfiguration");
        assertThat(problems).extracting(Swagger.Problem::kind).containsExactlyInAnyOrder(
                Swagger.Problem.Kind.MISSING, Swagger.Problem.Kind.TYPE, Swagger.Problem.Kind.TYPE,
                Swagger.Problem.Kind.ENUM, Swagger.Problem.Kind.UNKNOWN);
        assertThat(problems).extracting(Swagger.Problem::serde).contains(
                "missing field `mem_size_mib`",
                "invalid type: string \"2\", expected an integer",
                "unknown variant `1G`, expected one of `None`, `Transparent`, `2M`");
        assertThat(swagger.validate(Json.parseTree("{\"vcpu_count\":33,\"mem_size_mib\":128}"),
                "MachineConfiguration")).extracting(Swagger.Problem::kind).containsExactly(Swagger.Problem.Kind.RANGE);
        assertThat(swagger.validate(Json.parseTree("{\"metrics_path\":\"/m\",\"properties\":{\"a\":\"b\"}}"),
                "Metrics")).as("additionalProperties allows any key").isEmpty();
    }
}
