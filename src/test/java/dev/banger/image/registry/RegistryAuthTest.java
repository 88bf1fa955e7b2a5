package dev.banger.image.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.host.Executables;
import dev.banger.image.ImagePuller;
import dev.banger.image.PullListener;
import dev.banger.image.PullOptions;
import dev.banger.image.PulledImage;
import dev.banger.testkit.Ext4Inspector;
import dev.banger.testkit.OciLayoutBuilder;
import dev.banger.testkit.RegistryFixture;
import dev.banger.testkit.TarLayer;
import dev.banger.testkit.TestAssets;
import dev.banger.testkit.TokenServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Authentication against real registries: htpasswd basic auth with credentials from a docker config, and the
 * bearer-token flow against docker-registry configured for token auth, trusting a token service the test runs
 * (RS256 tokens signed with a certificate made by openssl).
 */
class RegistryAuthTest {

    static Path layout;
    static RegistryFixture basic;

    @BeforeAll
    static void setUp() throws IOException {
        layout = Files.createTempDirectory("banger-auth-oci-");
        OciLayoutBuilder b = new OciLayoutBuilder(layout);
        OciLayoutBuilder.Blob layer = b.layer(new TarLayer().dir("etc").file("etc/marker", "auth\n"),
                TarLayer.Compression.GZIP);
        b.tag("v1", b.image("amd64", List.of(layer), List.of(), null, List.of("/bin/sh")));
        basic = RegistryFixture.startWithHtpasswd("alice", "s3cret");
        basic.push(layout, "v1", "private/img");
    }

    @AfterAll
    static void tearDown() {
        if (basic != null) {
            basic.close();
        }
        TestAssets.deleteTree(layout);
    }

    @Test
    void basicAuth_usesTheAuthsEntryOfTheDockerConfig(@TempDir Path tmp) throws IOException {
        Path config = dockerConfig(tmp, "{\"auths\":{\"" + basic.host() + "\":{\"auth\":\""
                + b64("alice:s3cret") + "\"}}}");

        PulledImage pulled = puller(tmp).pull(basic.host() + "/private/img:v1", options(tmp, config),
                PullListener.NONE);

        assertThat(new Ext4Inspector(pulled.rootfsExt4()).cat("/etc/marker")).isEqualTo("auth\n");
    }

    @Test
    void basicAuth_withoutCredentials_isDeniedWithAHint(@TempDir Path tmp) throws IOException {
        Path config = dockerConfig(tmp, "{}");

        assertThatThrownBy(() -> puller(tmp).pull(basic.host() + "/private/img:v1", options(tmp, config),
                PullListener.NONE))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("access denied")
                .hasMessageContaining("\"auths\" entry for " + basic.host());
    }

    @Test
    void basicAuth_withWrongPassword_isDenied(@TempDir Path tmp) throws IOException {
        Path config = dockerConfig(tmp, "{\"auths\":{\"http://" + basic.host() + "/v2/\":{\"auth\":\""
                + b64("alice:wrong") + "\"}}}");

        assertThatThrownBy(() -> puller(tmp).pull(basic.host() + "/private/img:v1", options(tmp, config),
                PullListener.NONE))
                .isInstanceOf(RegistryException.class)
                .satisfies(e -> assertThat(((RegistryException) e).isAccessDenied()).isTrue())
                .hasMessageContaining("check the credentials");
    }

    @Test
    void credentialHelperOnly_saysHelpersAreNotSupportedYet(@TempDir Path tmp) throws IOException {
        Path config = dockerConfig(tmp, "{\"credHelpers\":{\"" + basic.host() + "\":\"secretservice\"}}");

        assertThatThrownBy(() -> puller(tmp).pull(basic.host() + "/private/img:v1", options(tmp, config),
                PullListener.NONE))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("docker-credential-secretservice")
                .hasMessageContaining("does not run yet");
    }

    @Test
    void bearerToken_anonymousFlowAgainstARegistryWithTokenAuth(@TempDir Path tmp) throws IOException {
        try (TokenServer tokens = new TokenServer(null, null);
             RegistryFixture registry = RegistryFixture.startWithTokenAuth(tokens)) {
            registry.push(layout, "v1", "tok/img");
            int before = tokens.requests().size();

            PulledImage pulled = puller(tmp).pull(registry.host() + "/tok/img:v1",
                    options(tmp, dockerConfig(tmp, "{}")), PullListener.NONE);

            assertThat(new Ext4Inspector(pulled.rootfsExt4()).cat("/etc/marker")).isEqualTo("auth\n");
            List<TokenServer.Request> ours = tokens.requests().subList(before, tokens.requests().size());
            assertThat(ours).as("one token, reused for every call").hasSize(1);
            assertThat(ours.get(0).service()).isEqualTo("banger-test-registry");
            assertThat(ours.get(0).scopes()).containsExactly("repository:tok/img:pull");
            assertThat(ours.get(0).authorization()).as("anonymous").isNull();
        }
    }

    @Test
    void bearerToken_sendsDockerConfigCredentialsToTheTokenService(@TempDir Path tmp) throws IOException {
        try (TokenServer tokens = new TokenServer("bob", "hunter2");
             RegistryFixture registry = RegistryFixture.startWithTokenAuth(tokens)) {
            // the pushing side (skopeo) must authenticate too
            TestAssets.runner().run(dev.banger.host.Command.of("skopeo", "--insecure-policy", "copy", "--quiet",
                    "--dest-tls-verify=false", "--dest-creds", "bob:hunter2", "oci:" + layout + ":v1",
                    "docker://" + registry.host() + "/tok/private:v1"));
            Path good = dockerConfig(tmp, "{\"auths\":{\"" + registry.host() + "\":{\"auth\":\""
                    + b64("bob:hunter2") + "\"}}}");

            PulledImage pulled = puller(tmp).pull(registry.host() + "/tok/private:v1", options(tmp, good),
                    PullListener.NONE);

            assertThat(new Ext4Inspector(pulled.rootfsExt4()).cat("/etc/marker")).isEqualTo("auth\n");
            assertThat(tokens.requests().get(tokens.requests().size() - 1).authorization())
                    .isEqualTo("Basic " + b64("bob:hunter2"));
            Path none = tmp.resolve("anon");
            Files.createDirectories(none);
            assertThatThrownBy(() -> puller(none).pull(registry.host() + "/tok/private:v1",
                    options(none, dockerConfig(none, "{}")), PullListener.NONE))
                    .isInstanceOf(RegistryException.class)
                    .hasMessageContaining("refused anonymous access");
        }
    }

    private static ImagePuller puller(Path tmp) {
        return new ImagePuller(new ContentStore(tmp.resolve("store")), tmp.resolve("work"), TestAssets.runner(),
                Executables.fromEnvironment(), ImageSources.newHttpClient());
    }

    private static PullOptions options(Path tmp, Path dockerConfig) {
        return PullOptions.to(tmp.resolve("img-" + System.nanoTime() + ".ext4")).withHeadroom(8L << 20)
                .withDockerConfig(dockerConfig);
    }

    private static Path dockerConfig(Path dir, String json) throws IOException {
        Path file = dir.resolve("docker-config.json");
        Files.writeString(file, json);
        return file;
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
