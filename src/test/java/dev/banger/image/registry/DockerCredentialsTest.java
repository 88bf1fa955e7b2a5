package dev.banger.image.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DockerCredentialsTest {

    @TempDir
    Path tmp;

    @Test
    void find_matchesKeysWithSchemesAndDockerHubAliases() throws IOException {
        DockerCredentials c = load("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"" + b64("hub:pw")
                + "\"},\"http://reg.example:5000/v2/\":{\"auth\":\"" + b64("me:p:w") + "\"},"
                + "\"ghcr.io\":{\"username\":\"u\",\"password\":\"p\"}}}");

        assertThat(c.find("docker.io")).contains(new Credential("hub", "pw"));
        assertThat(c.find("reg.example:5000")).contains(new Credential("me", "p:w"));
        assertThat(c.find("ghcr.io")).contains(new Credential("u", "p"));
        assertThat(c.find("quay.io")).isEmpty();
    }

    @Test
    void unsupportedHelperNote_onlyWhenAHelperIsTheOnlySource() throws IOException {
        DockerCredentials c = load("{\"auths\":{\"a.io\":{\"auth\":\"" + b64("x:y") + "\"}},"
                + "\"credHelpers\":{\"b.io\":\"gcr\"},\"credsStore\":\"desktop\"}");

        assertThat(c.unsupportedHelperNote("a.io")).isEmpty();
        assertThat(c.unsupportedHelperNote("b.io")).get().asString().contains("docker-credential-gcr");
        assertThat(c.unsupportedHelperNote("c.io")).get().asString().contains("docker-credential-desktop");
    }

    @Test
    void load_missingFileIsNoCredentials_malformedIsAnError() throws IOException {
        assertThat(DockerCredentials.load(tmp.resolve("absent.json")).find("docker.io")).isEmpty();
        assertThatThrownBy(() -> load("{\"auths\":{\"a.io\":{\"auth\":\"!!!\"}}}"))
                .hasMessageContaining("not base64");
    }

    @Test
    void credential_toStringHidesThePassword() {
        assertThat(new Credential("u", "secret").toString()).doesNotContain("secret");
    }

    private DockerCredentials load(String json) throws IOException {
        Path f = tmp.resolve("config.json");
        Files.writeString(f, json);
        return DockerCredentials.load(f);
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes());
    }
}
