package dev.banger.image.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ManifestsTest {

    static final String D1 = "sha256:" + "1".repeat(64);
    static final String D2 = "sha256:" + "2".repeat(64);

    @Test
    void parse_dockerManifestList_selectsLinuxAmd64() {
        String list = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.DOCKER_LIST + "\",\"manifests\":["
                + entry(D1, "arm64", "v8") + "," + entry(D2, "amd64", null) + "]}";

        Manifests.ImageIndex index = (Manifests.ImageIndex) Manifests.parse(bytes(list), MediaTypes.DOCKER_LIST, "x");

        assertThat(index.select(Platform.LINUX_AMD64, "x").digest().toString()).isEqualTo(D2);
    }

    @Test
    void select_withoutAmd64_listsWhatThereIs() {
        String list = "{\"schemaVersion\":2,\"manifests\":[" + entry(D1, "arm64", "v8") + "]}";
        Manifests.ImageIndex index = (Manifests.ImageIndex) Manifests.parse(bytes(list), null, "img");

        assertThatThrownBy(() -> index.select(Platform.LINUX_AMD64, "img"))
                .isInstanceOf(ManifestException.class).hasMessageContaining("linux/arm64/v8");
    }

    @Test
    void parse_dockerV2Manifest() {
        String m = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.DOCKER_MANIFEST + "\",\"config\":"
                + "{\"mediaType\":\"" + MediaTypes.DOCKER_CONFIG + "\",\"size\":7,\"digest\":\"" + D1 + "\"},"
                + "\"layers\":[{\"mediaType\":\"" + MediaTypes.DOCKER_LAYER_GZIP + "\",\"size\":9,\"digest\":\""
                + D2 + "\"}]}";

        Manifests.ImageManifest parsed = (Manifests.ImageManifest) Manifests.parse(bytes(m),
                MediaTypes.DOCKER_MANIFEST + "; charset=utf-8", "x");

        assertThat(parsed.config().size()).isEqualTo(7);
        assertThat(parsed.layers()).extracting(Descriptor::size).containsExactly(9L);
    }

    @Test
    void parse_refusesSchema1AndUnknownLayerTypes() {
        assertThatThrownBy(() -> Manifests.parse(bytes("{\"schemaVersion\":1,\"fsLayers\":[]}"), null, "old"))
                .hasMessageContaining("schema 1");
        String m = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
                + "{\"size\":7,\"digest\":\"" + D1 + "\"},\"layers\":[{\"mediaType\":\"application/x-helm\","
                + "\"size\":9,\"digest\":\"" + D2 + "\"}]}";
        assertThatThrownBy(() -> Manifests.parse(bytes(m), null, "helm")).hasMessageContaining("application/x-helm");
    }

    @Test
    void imageConfig_forAnotherArchitecture_isRefused() {
        assertThatThrownBy(() -> ImageConfigs.parse(bytes("{\"os\":\"linux\",\"architecture\":\"arm64\"}"),
                Platform.LINUX_AMD64, "cfg")).hasMessageContaining("linux/arm64");
    }

    private static String entry(String digest, String arch, String variant) {
        return "{\"mediaType\":\"" + MediaTypes.DOCKER_MANIFEST + "\",\"size\":1,\"digest\":\"" + digest
                + "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"" + arch + "\""
                + (variant != null ? ",\"variant\":\"" + variant + "\"" : "") + "}}";
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
