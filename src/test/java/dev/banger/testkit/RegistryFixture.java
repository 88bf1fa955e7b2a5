package dev.banger.testkit;

import dev.banger.host.Command;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real OCI registry (Debian's {@code docker-registry}, distribution 2.8) on 127.0.0.1 with a free port and a
 * temp storage directory, optionally behind htpasswd basic auth or token auth. {@link #close()} stops it and
 * removes everything it made; use it in try-with-resources or from {@code @AfterAll}.
 */
public final class RegistryFixture implements AutoCloseable {

    private final Path dir;
    private final Process process;
    private final int port;
    private final List<String> skopeoCreds;
    /** Empty, or {@code ip netns exec NS} when the registry runs in a network namespace. */
    private final List<String> netnsPrefix;

    private RegistryFixture(Path dir, Process process, int port, List<String> skopeoCreds, List<String> netnsPrefix) {
        this.dir = dir;
        this.process = process;
        this.port = port;
        this.skopeoCreds = skopeoCreds;
        this.netnsPrefix = netnsPrefix;
    }

    /** An open registry. */
    public static RegistryFixture start() {
        return start(dir -> "", List.of(), List.of());
    }

    /**
     * An open registry on 127.0.0.1 inside network namespace {@code netns} (where a banger daemon under test
     * runs); pushes go through the namespace too.
     */
    public static RegistryFixture startIn(String netns) {
        return start(dir -> "", List.of(), List.of("ip", "netns", "exec", netns));
    }

    /** A registry that wants basic auth for {@code user}/{@code password} (bcrypt entry made with htpasswd -B). */
    public static RegistryFixture startWithHtpasswd(String user, String password) {
        String entry = TestAssets.runner().run("htpasswd", "-Bbn", user, password).stdoutText().strip();
        return start(dir -> {
            Path file = dir.resolve("htpasswd");
            write(file, entry + "\n");
            return "auth:\n  htpasswd:\n    realm: banger-test\n    path: " + file + "\n";
        }, List.of("--dest-creds", user + ":" + password), List.of());
    }

    /** A registry that trusts tokens from {@code tokens} (bearer-token auth). */
    public static RegistryFixture startWithTokenAuth(TokenServer tokens) {
        return start(dir -> "auth:\n  token:\n    realm: " + tokens.realm() + "\n    service: " + tokens.service()
                + "\n    issuer: " + tokens.issuer() + "\n    rootcertbundle: " + tokens.certificate() + "\n",
                List.of(), List.of());
    }

    private static RegistryFixture start(java.util.function.Function<Path, String> auth, List<String> skopeoCreds,
                                         List<String> netnsPrefix) {
        Path dir = tempDir();
        String authYaml = auth.apply(dir);
        int port = freePort();
        Path config = dir.resolve("config.yml");
        write(config, "version: 0.1\n"
                + "log:\n  level: warn\n"
                + "storage:\n  filesystem:\n    rootdirectory: " + dir.resolve("storage") + "\n"
                + "  delete:\n    enabled: true\n"
                + "http:\n  addr: 127.0.0.1:" + port + "\n"
                + authYaml);
        Process p;
        try {
            List<String> argv = new ArrayList<>(netnsPrefix);
            argv.addAll(List.of("docker-registry", "serve", config.toString()));
            p = new ProcessBuilder(argv)
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("registry.log").toFile())
                    .start();
        } catch (IOException e) {
            TestAssets.deleteTree(dir);
            throw new UncheckedIOException("cannot start docker-registry (apt-get install docker-registry)", e);
        }
        RegistryFixture fixture = new RegistryFixture(dir, p, port, skopeoCreds, netnsPrefix);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            if (!netnsPrefix.isEmpty()) {
                List<String> probe = new ArrayList<>(netnsPrefix);
                probe.addAll(List.of(TestAssets.busybox().toString(), "wget", "-q", "-O", "/dev/null",
                        fixture.url() + "/v2/"));
                if (TestAssets.runner().run(Command.of(probe).allowingFailure()).succeeded()) {
                    return fixture;
                }
            } else try {
                HttpURLConnection c = (HttpURLConnection) URI.create(fixture.url() + "/v2/").toURL().openConnection();
                c.setConnectTimeout(500);
                int status = c.getResponseCode();
                c.disconnect();
                if (status == 200 || status == 401) {
                    return fixture;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (!p.isAlive() || System.nanoTime() > deadline) {
                String log = fixture.log();
                fixture.close();
                throw new IllegalStateException("docker-registry did not start: " + log);
            }
            sleep(50);
        }
    }

    public int port() {
        return port;
    }

    /** {@code 127.0.0.1:PORT}, the registry part of a reference. */
    public String host() {
        return "127.0.0.1:" + port;
    }

    public String url() {
        return "http://" + host();
    }

    /** The registry's storage root (distribution's filesystem driver layout). */
    public Path storage() {
        return dir.resolve("storage");
    }

    /** Where the registry keeps a blob's bytes. */
    public Path blobData(String digest) {
        String hex = digest.substring(digest.indexOf(':') + 1);
        return storage().resolve("docker/registry/v2/blobs/sha256").resolve(hex.substring(0, 2)).resolve(hex)
                .resolve("data");
    }

    /** Pushes {@code oci:LAYOUT:TAG} to {@code REPO:TAG} here with skopeo (all platforms of an index). */
    public void push(Path layout, String tag, String repo) {
        List<String> argv = new ArrayList<>(netnsPrefix);
        argv.addAll(List.of("skopeo", "--insecure-policy", "copy", "--quiet", "--all", "--dest-tls-verify=false"));
        argv.addAll(skopeoCreds);
        argv.add("oci:" + layout + ":" + tag);
        argv.add("docker://" + host() + "/" + repo + ":" + tag);
        TestAssets.runner().run(Command.of(argv).withTimeout(Duration.ofMinutes(5)));
    }

    /** The registry's log so far (it includes an access log line per request). */
    public String log() {
        try {
            return Files.readString(dir.resolve("registry.log"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** How many times the blob was requested (GET) from this registry so far, from its access log. */
    public long blobGets(String repo, String digest) {
        String needle = "\"GET /v2/" + repo + "/blobs/" + digest + " ";
        return log().lines().filter(l -> l.contains(needle)).count();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        TestAssets.deleteTree(dir);
    }

    static Path tempDir() {
        try {
            return Files.createTempDirectory("banger-registry-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
