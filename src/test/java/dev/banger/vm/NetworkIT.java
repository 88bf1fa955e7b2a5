package dev.banger.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.json.Json;
import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.TestAssets;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The guest network, inside the test's own network namespace: bridge, taps, addresses. */
@Tag("vm")
class NetworkIT {

    private BangerHome banger;

    @BeforeEach
    void setUp() throws Exception {
        banger = BangerHome.createWithBusyboxGuest();
    }

    @AfterEach
    void tearDown() throws Exception {
        banger.close();
    }

    @Test
    void guestsReachEachOtherAndTheHostReachesThem() throws Exception {
        ok(banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", "web"));
        ok(banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", "client"));
        String webIp = ip("web");
        String clientIp = ip("client");
        assertThat(webIp).isNotEqualTo(clientIp).startsWith("172.30.77.");
        assertThat(ok(banger.banger("vm", "exec", "web", "--", "cat", "/sys/class/net/eth0/address")).stdout().trim())
                .as("the guest has the MAC banger derived from its address").isEqualTo(macOf(webIp));

        ok(banger.banger("vm", "exec", "web", "--", "sh", "-c",
                "mkdir -p /srv && echo hello-from-web > /srv/index.html && httpd -p 8080 -h /srv"));
        Result fetched = ok(banger.banger("vm", "exec", "client", "--", "wget", "-q", "-O", "-",
                "http://" + webIp + ":8080/index.html"));
        assertThat(fetched.stdout()).isEqualTo("hello-from-web\n");
        ok(banger.banger("vm", "exec", "client", "--", "ping", "-c", "1", "-W", "5", webIp));

        assertThat(hostRun("ping", "-c", "1", "-W", "5", clientIp)).as("host → guest ping").isZero();
        assertThat(hostRun("wget", "-q", "-O", "/dev/null", "http://" + webIp + ":8080/index.html"))
                .as("host → guest http").isZero();

        ok(banger.banger("vm", "delete", "--force", "web", "client"));
        assertThat(banger.links()).as("taps are gone").allMatch(l -> !l.startsWith("bt"));
    }

    @Test
    void addressesAreUniqueUnderConcurrentCreatesAndReusedAfterDelete() throws Exception {
        List<CompletableFuture<Result>> creates = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String name = "c" + i;
            creates.add(CompletableFuture.supplyAsync(() ->
                    banger.banger("vm", "create", "--no-start", "--disk", "64M", name)));
        }
        for (CompletableFuture<Result> c : creates) {
            ok(c.get(120, TimeUnit.SECONDS));
        }
        List<?> vms = (List<?>) json(ok(banger.banger("vm", "list", "--json"))).get("vms");
        Set<Object> ips = new HashSet<>();
        for (Object vm : vms) {
            ips.add(((Map<?, ?>) vm).get("guestIp"));
        }
        assertThat(vms).hasSize(8);
        assertThat(ips).hasSize(8).doesNotContainNull();

        String freed = ip("c3");
        ok(banger.banger("vm", "delete", "c3"));
        ok(banger.banger("vm", "create", "--no-start", "--disk", "64M", "again"));
        assertThat(ip("again")).as("the lowest free address is reused").isEqualTo(freed);
    }

    private int hostRun(String... busyboxArgs) throws Exception {
        List<String> argv = new ArrayList<>(List.of(TestAssets.busybox().toString()));
        argv.addAll(List.of(busyboxArgs));
        Process p = new ProcessBuilder(banger.inNetns(argv)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(out).isTrue();
        return p.exitValue();
    }


    private String ip(String vm) {
        return (String) json(ok(banger.banger("vm", "show", vm, "--json"))).get("guestIp");
    }

    private static String macOf(String ip) {
        String[] o = ip.split("\\.");
        return String.format("02:b4:6e:%02x:%02x:%02x", Integer.parseInt(o[1]), Integer.parseInt(o[2]),
                Integer.parseInt(o[3]));
    }

    private static Result ok(Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result;
    }

    private static Map<?, ?> json(Result result) {
        return (Map<?, ?>) Json.parseTree(result.stdout());
    }
}
