package dev.banger.image.registry;

import dev.banger.config.BuildInfo;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs {@link RegistryCall}s against one repository of one registry (OCI distribution spec v2). It finds the
 * scheme (HTTPS; plain HTTP only for loopback registries or when the registry was named insecure), answers
 * {@code WWW-Authenticate} challenges (the bearer-token flow, anonymous or with basic credentials from the docker
 * config, or plain basic auth), and follows redirects itself so the registry's token never travels to another
 * host (blob storage redirects). Safe for concurrent calls.
 */
final class RegistryClient {

    private static final Duration HEADER_TIMEOUT = Duration.ofSeconds(60);
    private static final int MAX_REDIRECTS = 5;
    private static final int MAX_ERROR_BODY = 64 * 1024;
    private static final String USER_AGENT = "banger/" + BuildInfo.version();

    private final ImageReference image;
    private final HttpClient http;
    private final DockerCredentials credentials;
    private final boolean plainHttpAllowed;
    private URI base;
    private volatile String authorization;

    /**
     * @param insecure the user named this registry insecure: plain HTTP is allowed for it
     */
    RegistryClient(ImageReference image, HttpClient http, DockerCredentials credentials, boolean insecure) {
        this.image = image;
        this.http = http;
        this.credentials = credentials;
        this.plainHttpAllowed = insecure || image.isLoopback();
    }

    /** The HTTP client settings registry calls expect: no automatic redirects, HTTP/1.1, bounded connect time. */
    static HttpClient newHttpClient() {
        return HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(30))
                .build();
    }

    <T> T call(RegistryCall<T> call) {
        URI root = connect();
        URI uri = root.resolve(call.path());
        HttpResponse<InputStream> response = send(uri, call.accept(), authorization, call.description());
        if (response.statusCode() == 401) {
            String challenge = response.headers().firstValue("WWW-Authenticate").orElse(null);
            discard(response);
            authenticate(challenge, call.description());
            response = send(uri, call.accept(), authorization, call.description());
        }
        if (response.statusCode() / 100 == 2) {
            try {
                return call.handle(response);
            } catch (IOException e) {
                throw new RegistryException("cannot " + call.description() + ": " + e.getMessage(), e);
            }
        }
        throw failure(response, call.description());
    }

    /** Finds the base URI with a {@code GET /v2/} and, when it asks, authenticates up front. */
    private synchronized URI connect() {
        if (base != null) {
            return base;
        }
        List<String> schemes = plainHttpAllowed ? List.of("https", "http") : List.of("https");
        List<String> failures = new ArrayList<>();
        for (String scheme : schemes) {
            URI candidate = URI.create(scheme + "://" + image.apiHost() + "/");
            HttpResponse<InputStream> response;
            try {
                response = http.send(request(candidate.resolve("/v2/"), List.of(), null).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                failures.add(candidate + ": " + describe(e));
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RegistryException("interrupted while contacting " + candidate, e);
            }
            base = candidate;
            if (response.statusCode() == 401) {
                String challenge = response.headers().firstValue("WWW-Authenticate").orElse(null);
                discard(response);
                authenticate(challenge, "authenticate to " + image.registry());
            } else {
                discard(response);
            }
            return base;
        }
        throw new RegistryException("cannot reach registry " + image.registry() + " (" + String.join("; ", failures)
                + ")" + (plainHttpAllowed ? "" : "; plain HTTP is used only for loopback registries or ones named"
                + " insecure"), 0, null);
    }

    private synchronized void authenticate(String challengeHeader, String what) {
        AuthChallenge challenge = AuthChallenge.parse(challengeHeader);
        if (challenge == null) {
            throw new RegistryException("cannot " + what + ": the registry asks for authentication banger does not"
                    + " speak (" + challengeHeader + ")", 401, null);
        }
        Optional<Credential> credential = credentials.find(image.registry());
        if (!challenge.isBearer()) {
            authorization = credential.map(Credential::basicAuthorization)
                    .orElseThrow(() -> denied(what, 401, null, "the registry needs a user name and password"));
            return;
        }
        String realm = challenge.params().get("realm");
        if (realm == null || realm.isBlank()) {
            throw new RegistryException("cannot " + what + ": bearer challenge without a realm (" + challengeHeader
                    + ")", 401, null);
        }
        URI realmUri;
        try {
            realmUri = URI.create(realm);
        } catch (IllegalArgumentException e) {
            throw new RegistryException("cannot " + what + ": malformed token realm " + realm, 401, null);
        }
        if (!"https".equals(realmUri.getScheme()) && !("http".equals(realmUri.getScheme()) && plainHttpAllowed)) {
            throw new RegistryException("cannot " + what + ": the token service " + realm + " is not HTTPS", 401,
                    null);
        }
        String scope = challenge.params().getOrDefault("scope", "repository:" + image.repository() + ":pull");
        StringBuilder query = new StringBuilder();
        String service = challenge.params().get("service");
        if (service != null) {
            query.append("service=").append(URLEncoder.encode(service, StandardCharsets.UTF_8)).append('&');
        }
        query.append("scope=").append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
        URI tokenUri = URI.create(realm + (realm.contains("?") ? "&" : "?") + query);
        HttpResponse<InputStream> response = send(tokenUri, List.of("application/json"),
                credential.map(Credential::basicAuthorization).orElse(null), "fetch a token from " + realm);
        if (response.statusCode() / 100 != 2) {
            if (response.statusCode() == 401 || response.statusCode() == 403) {
                discard(response);
                throw denied(what, response.statusCode(), null, credential.isPresent()
                        ? "the token service " + realm + " rejected the credentials of " + credential.get().username()
                        : "the token service " + realm + " refused anonymous access");
            }
            throw failure(response, "fetch a token from " + realm);
        }
        byte[] body;
        try (InputStream in = response.body()) {
            body = in.readNBytes(1024 * 1024);
        } catch (IOException e) {
            throw new RegistryException("cannot fetch a token from " + realm + ": " + describe(e), e);
        }
        JsonFields json = JsonFields.parse(body, "token response from " + realm);
        String token = json.string("token") != null ? json.string("token") : json.string("access_token");
        if (token == null || token.isBlank()) {
            throw new RegistryException("the token service " + realm + " answered without a token", 0, null);
        }
        authorization = "Bearer " + token;
    }

    private HttpResponse<InputStream> send(URI uri, List<String> accept, String auth, String what) {
        URI current = uri;
        String currentAuth = auth;
        for (int hop = 0; ; hop++) {
            HttpResponse<InputStream> response;
            try {
                response = http.send(request(current, accept, currentAuth).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                throw new RegistryException("cannot " + what + ": " + describe(e), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RegistryException("interrupted: " + what, e);
            }
            int status = response.statusCode();
            boolean redirect = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
            Optional<String> location = response.headers().firstValue("Location");
            if (!redirect || location.isEmpty()) {
                return response;
            }
            discard(response);
            if (hop >= MAX_REDIRECTS) {
                throw new RegistryException("cannot " + what + ": more than " + MAX_REDIRECTS + " redirects", status,
                        null);
            }
            URI next = current.resolve(location.get());
            if (!"https".equals(next.getScheme()) && !("http".equals(next.getScheme()) && plainHttpAllowed)) {
                throw new RegistryException("cannot " + what + ": redirected to non-HTTPS " + next, status, null);
            }
            if (!sameOrigin(current, next)) {
                currentAuth = null;
            }
            current = next;
        }
    }

    private static HttpRequest.Builder request(URI uri, List<String> accept, String auth) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).GET().timeout(HEADER_TIMEOUT)
                .header("User-Agent", USER_AGENT);
        if (!accept.isEmpty()) {
            b.header("Accept", String.join(", ", accept));
        }
        if (auth != null) {
            b.header("Authorization", auth);
        }
        return b;
    }

    private RegistryException failure(HttpResponse<InputStream> response, String what) {
        int status = response.statusCode();
        byte[] body;
        try (InputStream in = response.body()) {
            body = in.readNBytes(MAX_ERROR_BODY);
        } catch (IOException e) {
            body = new byte[0];
        }
        String code = null;
        String message = null;
        try {
            Object tree = dev.banger.json.Json.parseTree(new String(body, StandardCharsets.UTF_8));
            if (tree instanceof Map<?, ?> m && m.get("errors") instanceof List<?> errors && !errors.isEmpty()
                    && errors.get(0) instanceof Map<?, ?> first) {
                code = first.get("code") instanceof String s ? s : null;
                message = first.get("message") instanceof String s ? s : null;
            }
        } catch (RuntimeException ignored) {
            // not a registry error document; the status says enough
        }
        String detail = "HTTP " + status + (code != null ? " " + code : "") + (message != null ? ": " + message : "");
        if (status == 401 || status == 403) {
            return denied(what, status, code, detail);
        }
        if (status == 404) {
            return new RegistryException("cannot " + what + ": not found (" + detail + ")", status, code);
        }
        return new RegistryException("cannot " + what + ": " + detail, status, code);
    }

    private RegistryException denied(String what, int status, String code, String detail) {
        String hint = credentials.unsupportedHelperNote(image.registry())
                .orElse(credentials.find(image.registry()).isPresent()
                        ? "check the credentials for " + image.registry() + " in the docker config"
                        : "log in (an \"auths\" entry for " + image.registry() + " in ~/.docker/config.json) if the"
                        + " repository is private");
        return new RegistryException("cannot " + what + ": access denied (" + detail + "); " + hint, status, code);
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost() != null
                && a.getHost().equalsIgnoreCase(b.getHost()) && a.getPort() == b.getPort();
    }

    private static void discard(HttpResponse<InputStream> response) {
        try (InputStream in = response.body()) {
            in.readNBytes(MAX_ERROR_BODY);
        } catch (IOException ignored) {
            // the connection is dropped instead of reused
        }
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
    }
}
