package dev.banger.testkit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.banger.json.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A token service as distribution's token auth expects one: answers {@code GET /token?service=…&scope=…} with a
 * JWT (RS256, the signing certificate in {@code x5c}) granting the requested actions, which a registry started with
 * {@link RegistryFixture#startWithTokenAuth} verifies against {@link #certificate()}. The key and self-signed
 * certificate are made with openssl. Optionally requires basic credentials. Records every request.
 */
public final class TokenServer implements AutoCloseable {

    /** One token request as received. */
    public record Request(String service, List<String> scopes, String authorization) {
    }

    private final Path dir;
    private final HttpServer server;
    private final PrivateKey key;
    private final String certDerBase64;
    private final String requiredAuthorization;
    private final List<Request> requests = new CopyOnWriteArrayList<>();

    /** @param user with {@code password}: the only credential accepted; null for anonymous access */
    public TokenServer(String user, String password) {
        this.dir = RegistryFixture.tempDir();
        try {
            TestAssets.runner().run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    dir.resolve("key.pem").toString(), "-out", certificate().toString(), "-subj",
                    "/CN=banger-test-token", "-days", "2");
            this.key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pem(dir.resolve("key.pem"))));
            this.certDerBase64 = Base64.getEncoder().encodeToString(pem(certificate()));
            this.requiredAuthorization = user == null ? null : "Basic " + Base64.getEncoder().encodeToString(
                    (user + ":" + password).getBytes(StandardCharsets.UTF_8));
            this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            TestAssets.deleteTree(dir);
            throw new UncheckedIOException(e);
        } catch (java.security.GeneralSecurityException e) {
            TestAssets.deleteTree(dir);
            throw new IllegalStateException(e);
        }
        server.createContext("/token", this::handle);
        server.start();
    }

    public String realm() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
    }

    public String service() {
        return "banger-test-registry";
    }

    public String issuer() {
        return "banger-test-issuer";
    }

    public Path certificate() {
        return dir.resolve("cert.pem");
    }

    public List<Request> requests() {
        return List.copyOf(requests);
    }

    private void handle(HttpExchange exchange) throws IOException {
        String service = null;
        List<String> scopes = new ArrayList<>();
        String query = exchange.getRequestURI().getRawQuery();
        if (query != null) {
            for (String pair : query.split("&")) {
                int eq = pair.indexOf('=');
                String k = eq < 0 ? pair : pair.substring(0, eq);
                String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                if (k.equals("service")) {
                    service = v;
                } else if (k.equals("scope")) {
                    scopes.add(v);
                }
            }
        }
        String auth = exchange.getRequestHeaders().getFirst("Authorization");
        requests.add(new Request(service, scopes, auth));
        if (requiredAuthorization != null && !requiredAuthorization.equals(auth)) {
            reply(exchange, 401, "{\"details\":\"bad credentials\"}");
            return;
        }
        List<Map<String, Object>> access = new ArrayList<>();
        for (String scope : scopes) {
            String[] parts = scope.split(":");
            if (parts.length == 3) {
                access.add(Map.of("type", parts[0], "name", parts[1], "actions", List.of(parts[2].split(","))));
            }
        }
        long now = Instant.now().getEpochSecond();
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("iss", issuer());
        claims.put("sub", auth == null ? "" : "user");
        claims.put("aud", service());
        claims.put("exp", now + 300);
        claims.put("nbf", now - 60);
        claims.put("iat", now);
        claims.put("jti", UUID.randomUUID().toString());
        claims.put("access", access);
        String token;
        try {
            token = jwt(claims);
        } catch (java.security.GeneralSecurityException e) {
            reply(exchange, 500, "{}");
            return;
        }
        reply(exchange, 200, Json.write(Map.of("token", token, "expires_in", 300L)));
    }

    private String jwt(Map<String, Object> claims) throws java.security.GeneralSecurityException {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("typ", "JWT");
        header.put("alg", "RS256");
        header.put("x5c", List.of(certDerBase64));
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String signingInput = b64.encodeToString(Json.write(header).getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(Json.write(claims).getBytes(StandardCharsets.UTF_8));
        Signature rsa = Signature.getInstance("SHA256withRSA");
        rsa.initSign(key);
        rsa.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        return signingInput + "." + b64.encodeToString(rsa.sign());
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static byte[] pem(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        StringBuilder b64 = new StringBuilder();
        boolean in = false;
        for (String line : text.split("\n")) {
            if (line.startsWith("-----BEGIN")) {
                in = true;
            } else if (line.startsWith("-----END")) {
                break;
            } else if (in) {
                b64.append(line.strip());
            }
        }
        return Base64.getDecoder().decode(b64.toString());
    }

    @Override
    public void close() {
        server.stop(0);
        TestAssets.deleteTree(dir);
    }
}
