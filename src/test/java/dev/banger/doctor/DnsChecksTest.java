package dev.banger.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.api.Api;
import dev.banger.api.VmList;
import dev.banger.api.VmView;
import dev.banger.config.BangerPaths;
import dev.banger.dns.DnsRecords;
import dev.banger.dns.DnsServer;
import dev.banger.doctor.CheckResult.Status;
import dev.banger.rpc.HandlerRegistry;
import dev.banger.rpc.PeerPolicy;
import dev.banger.rpc.RpcServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** doctor's dns-server and dns-host lines, against a real DNS server and a daemon stand-in that lists VMs. */
class DnsChecksTest {

    @TempDir
    Path home;
    private final DnsRecords records = DnsRecords.inMemory();
    private final List<VmView> vms = new ArrayList<>();
    private final DoctorTest.FakeHost host = DoctorTest.FakeHost.complete();
    private DnsServer dns;
    private RpcServer daemon;

    @AfterEach
    void stop() {
        if (dns != null) {
            dns.close();
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    private BangerPaths paths() {
        return BangerPaths.resolve(Map.of("BANGER_HOME", home.toString()), "/", 0);
    }

    private void startDns() throws Exception {
        dns = new DnsServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), records);
        dns.start();
        configureDnsListen("127.0.0.1:" + dns.address().getPort());
    }

    private void configureDnsListen(String value) throws Exception {
        Files.createDirectories(paths().configDir());
        Files.writeString(paths().configFile(), "{\"dnsListen\": \"" + value + "\"}");
    }

    private void startDaemon() throws Exception {
        Files.createDirectories(paths().runtimeDir());
        daemon = new RpcServer(paths().socket(), new HandlerRegistry().on(Api.VM_LIST, (req, call) -> new VmList(vms)),
                PeerPolicy.forCurrentUser(Optional.empty()));
        daemon.start();
    }

    private void running(String name, String ip) {
        vms.add(new VmView("id-" + name, name, "running", null, null, "qemu", "img", "k", 1, 256, 64, ip,
                name + ".vm", "/d", "/l", 1L, null, "t", "t", null, null));
        records.set(name, ip);
    }

    private List<CheckResult> run() {
        return new DnsChecks(host, paths()).run();
    }

    @Test
    void aRunningVmThatResolvesEverywherePasses() throws Exception {
        startDns();
        startDaemon();
        running("web", "172.30.77.2");
        host.names.put("web.vm", List.of("172.30.77.2"));

        List<CheckResult> results = run();

        assertThat(results).extracting(CheckResult::status).containsExactly(Status.PASS, Status.PASS);
        assertThat(results.get(0).detail()).contains("answers web.vm → 172.30.77.2");
        assertThat(results.get(1).detail()).isEqualTo("web.vm resolves to 172.30.77.2 from the host");
    }

    @Test
    void withoutTheResolverHookTheHostLineSaysWhatToRun() throws Exception {
        startDns();
        startDaemon();
        running("web", "172.30.77.2");

        List<CheckResult> results = run();

        assertThat(results.get(0).status()).isEqualTo(Status.PASS);
        assertThat(results.get(1).status()).isEqualTo(Status.WARN);
        assertThat(results.get(1).detail()).isEqualTo("web.vm does not resolve from the host");
        assertThat(results.get(1).fix()).contains("resolvectl dns banger0 127.0.0.1:" + dns.address().getPort(),
                "resolvectl domain banger0 ~vm", "banger ssh-config install");
        assertThat(results).noneMatch(r -> r.required());
    }

    @Test
    void aServerThatDoesNotAnswerFails() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        configureDnsListen("127.0.0.1:" + closed);
        startDaemon();
        running("web", "172.30.77.2");

        CheckResult server = run().get(0);

        assertThat(server.status()).isEqualTo(Status.FAIL);
        assertThat(server.detail()).contains("answered web.vm with nothing, expected 172.30.77.2");
    }

    @Test
    void withNoRunningVmTheServerIsProbedWithAnUnknownName() throws Exception {
        startDns();
        startDaemon();

        List<CheckResult> results = run();

        assertThat(results).extracting(CheckResult::status).containsExactly(Status.PASS, Status.PASS);
        assertThat(results.get(0).detail()).contains("answers on 127.0.0.1:" + dns.address().getPort());
    }

    @Test
    void withoutADaemonNothingIsChecked() {
        List<CheckResult> results = run();

        assertThat(results).extracting(CheckResult::check).containsExactly("dns-server", "dns-host");
        assertThat(results).allSatisfy(r -> assertThat(r.status()).isEqualTo(Status.WARN));
        assertThat(results.get(0).detail()).contains("127.0.0.1:5553");
    }
}
