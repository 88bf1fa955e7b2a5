package dev.banger.image.registry;

import dev.banger.json.Json;
import dev.banger.json.JsonException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Registry credentials from a docker client config ({@code ~/.docker/config.json}): the {@code auths} map of
 * base64 {@code user:password} entries (or {@code username}/{@code password} fields), keyed by registry host,
 * with or without a scheme or path ({@code https://index.docker.io/v1/} for Docker Hub). Credential helpers
 * ({@code credHelpers}, {@code credsStore}) are not run; they are remembered so an authentication failure can
 * say that is why.
 */
public final class DockerCredentials {

    /** No credentials at all: anonymous access only. */
    public static final DockerCredentials NONE = new DockerCredentials(Map.of(), Map.of(), null, null);

    private final Map<String, Credential> auths;
    private final Map<String, String> helpers;
    private final String store;
    private final Path source;

    private DockerCredentials(Map<String, Credential> auths, Map<String, String> helpers, String store,
                              Path source) {
        this.auths = auths;
        this.helpers = helpers;
        this.store = store;
        this.source = source;
    }

    /** The config of the user running this process: {@code $DOCKER_CONFIG/config.json} or ~/.docker/config.json. */
    public static Path defaultPath() {
        String dir = System.getenv("DOCKER_CONFIG");
        return dir != null && !dir.isBlank() ? Path.of(dir, "config.json")
                : Path.of(System.getProperty("user.home"), ".docker", "config.json");
    }

    /**
     * Reads {@code config}; a missing file means no credentials.
     *
     * @throws IllegalArgumentException naming the file when it is unreadable or malformed
     */
    public static DockerCredentials load(Path config) {
        String text;
        try {
            text = Files.readString(config, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return NONE;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read docker config " + config + ": " + e.getMessage(), e);
        }
        Object tree;
        try {
            tree = Json.parseTree(text);
        } catch (JsonException e) {
            throw new IllegalArgumentException("docker config " + config + " is not valid JSON: " + e.getMessage());
        }
        if (!(tree instanceof Map<?, ?> root)) {
            throw new IllegalArgumentException("docker config " + config + " is not a JSON object");
        }
        Map<String, Credential> auths = new LinkedHashMap<>();
        if (root.get("auths") instanceof Map<?, ?> entries) {
            for (Map.Entry<?, ?> e : entries.entrySet()) {
                if (e.getValue() instanceof Map<?, ?> entry) {
                    Credential c = credential(entry, String.valueOf(e.getKey()), config);
                    if (c != null) {
                        auths.putIfAbsent(normalise(String.valueOf(e.getKey())), c);
                    }
                }
            }
        }
        Map<String, String> helpers = new LinkedHashMap<>();
        if (root.get("credHelpers") instanceof Map<?, ?> entries) {
            for (Map.Entry<?, ?> e : entries.entrySet()) {
                helpers.put(normalise(String.valueOf(e.getKey())), String.valueOf(e.getValue()));
            }
        }
        String store = root.get("credsStore") instanceof String s && !s.isBlank() ? s : null;
        return new DockerCredentials(Map.copyOf(auths), Map.copyOf(helpers), store, config);
    }

    /** The credential for {@code registry} (a host[:port] as in an {@link ImageReference}), if one is stored. */
    public Optional<Credential> find(String registry) {
        return Optional.ofNullable(auths.get(normalise(registry)));
    }

    /**
     * When the only credential for {@code registry} lives in a credential helper banger does not run, a sentence
     * saying so, for an access-denied error; else empty.
     */
    public Optional<String> unsupportedHelperNote(String registry) {
        if (find(registry).isPresent()) {
            return Optional.empty();
        }
        String helper = helpers.get(normalise(registry));
        if (helper == null) {
            helper = store;
        }
        if (helper == null) {
            return Optional.empty();
        }
        return Optional.of(source + " keeps credentials for " + registry + " in the credential helper 'docker-credential-"
                + helper + "', which banger does not run yet; add an \"auths\" entry for " + registry
                + " (e.g. docker login with credsStore removed) or pull anonymously");
    }

    private static Credential credential(Map<?, ?> entry, String key, Path config) {
        if (entry.get("auth") instanceof String auth && !auth.isBlank()) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(auth.strip()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("docker config " + config + ": the auth of '" + key
                        + "' is not base64");
            }
            int colon = decoded.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("docker config " + config + ": the auth of '" + key
                        + "' is not base64 of user:password");
            }
            return new Credential(decoded.substring(0, colon), decoded.substring(colon + 1));
        }
        if (entry.get("username") instanceof String user && entry.get("password") instanceof String password) {
            return new Credential(user, password);
        }
        return null;
    }

    /** {@code https://index.docker.io/v1/} → {@code docker.io}; {@code http://host:5000/x} → {@code host:5000}. */
    static String normalise(String key) {
        String k = key.strip();
        int scheme = k.indexOf("://");
        if (scheme >= 0) {
            k = k.substring(scheme + 3);
        }
        int slash = k.indexOf('/');
        if (slash >= 0) {
            k = k.substring(0, slash);
        }
        k = k.toLowerCase(java.util.Locale.ROOT);
        return switch (k) {
            case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com" -> ImageReference.DOCKER_HUB;
            default -> k;
        };
    }
}
