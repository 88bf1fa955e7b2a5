package dev.banger.host.network;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.json.Json;
import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.HostCommands;
import dev.banger.testkit.TestAssets;
import dev.banger.testkit.UpstreamDnsServer;
import dev.banger.util.Files2;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Networking out of the box, with real guests: NAT egress and guest DNS. The daemon runs in the test's namespace
 * ({@link BangerHome}); a second test-made namespace, joined to it by a veth pair, plays the outside world with a
 * web server and a DNS server on 198.18.7.2 (a benchmarking address, routed nowhere). That namespace has no route
 * back to the guest subnet, so a guest's request is answered only through banger's MASQUERADE. The daemon's
 * namespace gets its resolv.conf from /etc/netns/NAME (what {@code ip netns exec} mounts over /etc/resolv.conf),
 * naming the outside DNS server as the host's upstream. Two VMs, booted once, carry every assertion.
 */
@Tag("vm")
class GuestNetworkIT {

    private static final String OUTSIDE_HOST = "198.18.7.1";
    private static final String OUTSIDE = "198.18.7.2";

    private BangerHome banger;
    private String outsideNetns;
    private Path netnsEtc;
    private boolean createdEtcNetns;
    private Path webRoot;
    private final List<Process> servers = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        banger = BangerHome.create();
        String netns = banger.netns();
        outsideNetns = "bgo-" + netns.substring(4);
        netnsEtc = Paths.get("/etc/netns", netns);
        createdEtcNetns = !Files.exists(netnsEtc.getParent());
        Files.createDirectories(netnsEtc);
        Files.writeString(netnsEtc.resolve("resolv.conf"), "nameserver 127.0.0.53\nnameserver " + OUTSIDE + "\n");
        HostCommands.run(List.of("ip", "netns", "add", outsideNetns));
        HostCommands.run(List.of("ip", "-n", outsideNetns, "link", "set", "lo", "up"));
        HostCommands.run(List.of("ip", "-n", netns, "link", "add", "bgv0", "type", "veth", "peer", "name", "bgv1",
                "netns", outsideNetns));
        HostCommands.run(List.of("ip", "-n", netns, "addr", "add", OUTSIDE_HOST + "/24", "dev", "bgv0"));
        HostCommands.run(List.of("ip", "-n", netns, "link", "set", "bgv0", "up"));
        HostCommands.run(List.of("ip", "-n", outsideNetns, "addr", "add", OUTSIDE + "/24", "dev", "bgv1"));
        HostCommands.run(List.of("ip", "-n", outsideNetns, "link", "set", "bgv1", "up"));
        HostCommands.run(List.of("ip", "-n", netns, "route", "add", "default", "via", OUTSIDE));

        webRoot = Files.createTempDirectory("banger-outside-web-");
        Files.writeString(webRoot.resolve("index.html"), "hello-from-outside\n");
        servers.add(new ProcessBuilder("ip", "netns", "exec", outsideNetns, TestAssets.busybox().toString(), "httpd",
                "-f", "-p", OUTSIDE + ":8080", "-h", webRoot.toString()).redirectErrorStream(true).start());
        Process dns = new ProcessBuilder("ip", "netns", "exec", outsideNetns,
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), UpstreamDnsServer.class.getName(),
                OUTSIDE, "53", "example.test=" + OUTSIDE).redirectErrorStream(true).start();
        servers.add(dns);
        String ready = new BufferedReader(new InputStreamReader(dns.getInputStream(), StandardCharsets.UTF_8))
                .readLine();
        assertThat(ready).as("the outside DNS server starts").startsWith("ready");
        // Its first answer loads dnsjava in a cold JVM: seconds on a loaded 2-core host, longer than a guest's
        // resolver waits. Asked once here, from the daemon's namespace (as the daemon's forwarder will), it is
        // warm before a guest's query is forwarded to it, so the test measures banger's forwarding, not that.
        Process warm = new ProcessBuilder(banger.inNetns(List.of(TestAssets.busybox().toString(), "nslookup",
                "example.test", OUTSIDE))).redirectErrorStream(true).start();
        String warmed = new String(warm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        warm.waitFor(60, TimeUnit.SECONDS);
        assertThat(warmed).as("the outside DNS server answers from the daemon's namespace").contains(OUTSIDE);

        ok(banger.banger("kernel", "import", "cloud", "--deb", TestAssets.debianCloudKernelDeb().toString()));
        ok(banger.banger("image", "register", "busybox", "--rootfs", TestAssets.busyboxRootfs().toString()));
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            for (Process p : servers) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            if (outsideNetns != null) {
                new ProcessBuilder("ip", "netns", "del", outsideNetns).start().waitFor(10, TimeUnit.SECONDS);
            }
            if (webRoot != null) {
                Files2.deleteRecursively(webRoot);
            }
            if (netnsEtc != null) {
                Files2.deleteRecursively(netnsEtc);
                if (createdEtcNetns) {
                    try {
                        Files.delete(netnsEtc.getParent()); // Only when empty: another test may use it now.
                    } catch (java.nio.file.DirectoryNotEmptyException e) {
                        // Left for whoever else is using it.
                    }
                }
            }
        } finally {
            banger.close();
        }
    }

    @Test
    void guestsReachTheOutsideThroughNatAndResolveVmAndOutsideNames() throws Exception {
        assertThat(sysctlForwarding()).as("a fresh namespace does not forward").isEqualTo("0");
        ok(banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", "a"));
        ok(banger.banger("vm", "create", "--memory", "256M", "--disk", "64M", "b"));
        String bIp = (String) ((Map<?, ?>) Json.parseTree(ok(banger.banger("vm", "show", "b", "--json")).stdout()))
                .get("guestIp");

        assertThat(ok(banger.banger("vm", "exec", "a", "--", "cat", "/etc/resolv.conf")).stdout())
                .as("guests ask the bridge address").contains("nameserver 172.30.77.1");
        assertThat(ok(banger.banger("vm", "exec", "a", "--", "wget", "-q", "-O", "-",
                "http://" + OUTSIDE + ":8080/index.html")).stdout())
                .as("a guest reaches the outside through NAT").isEqualTo("hello-from-outside\n");
        assertThat(ok(banger.banger("vm", "exec", "a", "--", "nslookup", "b.vm")).stdout())
                .as("NAME.vm from the guest").contains(bIp);
        ok(banger.banger("vm", "exec", "a", "--", "ping", "-c", "1", "-W", "5", "b.vm"));
        // busybox sends A and AAAA at once with time-seeded ids: on a guest clock of 4 ms ticks (TCG without
        // tsc=reliable) both had the same id and the lookup printed "No answer" after 5 s; one lookup now suffices.
        assertThat(ok(banger.banger("vm", "exec", "a", "--", "cat",
                "/sys/devices/system/clocksource/clocksource0/current_clocksource")).stdout().strip())
                .as("the guest keeps time with the TSC (or kvm-clock), not jiffies").isIn("tsc", "kvm-clock");
        String forwarded = ok(banger.banger("vm", "exec", "a", "--", "nslookup", "example.test")).stdout();
        assertThat(forwarded).as("other names are forwarded to the host's upstream resolver").contains(OUTSIDE);

        assertThat(iptables("nat")).as("two boots, one set of rules").containsOnlyOnce(
                "-A POSTROUTING -j BANGER-POSTROUTING",
                "-A BANGER-POSTROUTING -s 172.30.77.0/24 ! -o banger0 -j MASQUERADE");
        assertThat(iptables("filter")).containsOnlyOnce("-A FORWARD -j BANGER-FORWARD",
                "-A BANGER-FORWARD -i banger0 -j ACCEPT",
                "-A BANGER-FORWARD -o banger0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
        assertThat(sysctlForwarding()).isEqualTo("1");
        assertThat(banger.banger("doctor").stdout()).as("doctor reports the rules and who enabled forwarding")
                .containsPattern("PASS +nat +iptables [^;]+; BANGER-POSTROUTING \\(nat\\) and BANGER-FORWARD "
                        + "\\(filter\\) for 172.30.77.0/24 in place; net.ipv4.ip_forward=1 \\(turned on by bangerd");

        Result refused = banger.banger("daemon", "cleanup-network");
        assertThat(refused.exitCode()).isNotZero();
        assertThat(refused.stderr()).contains("stop it first");
        ok(banger.banger("vm", "delete", "--force", "a", "b"));
        ok(banger.banger("daemon", "stop"));
        assertThat(ok(banger.banger("daemon", "cleanup-network")).stdout())
                .contains("removed chain BANGER-POSTROUTING (nat)", "removed chain BANGER-FORWARD (filter)",
                        "set net.ipv4.ip_forward back to 0 (bangerd had turned it on)");
        assertThat(iptables("nat")).noneMatch(l -> l.contains("BANGER"));
        assertThat(iptables("filter")).noneMatch(l -> l.contains("BANGER"));
        assertThat(sysctlForwarding()).isEqualTo("0");
    }

    private List<String> iptables(String table) throws Exception {
        return output(banger.inNetns(List.of("iptables", "-w", "-t", table, "-S"))).lines().toList();
    }

    private String sysctlForwarding() throws Exception {
        return output(banger.inNetns(List.of("sysctl", "-n", "net.ipv4.ip_forward"))).strip();
    }

    private static String output(List<String> argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", argv) + ": " + out).isZero();
        return out;
    }

    private static Result ok(Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result;
    }
}
