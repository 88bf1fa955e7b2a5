package dev.banger.doctor;

import dev.banger.api.Api;
import dev.banger.api.BangerException;
import dev.banger.api.Empty;
import dev.banger.api.VmList;
import dev.banger.api.VmView;
import dev.banger.config.BangerPaths;
import dev.banger.config.DaemonConfig;
import dev.banger.dns.ResolvedRoute;
import dev.banger.rpc.RpcClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * The doctor's two DNS lines. {@code dns-server}: banger's own server answers (a running VM's {@code NAME.vm} with
 * its IP; with no VM running, an unknown name with NXDOMAIN). {@code dns-host}: the host's resolver (what ssh, curl
 * and browsers use) resolves a running VM's {@code NAME.vm} to its IP, which needs the resolver hook (see
 * {@link dev.banger.dns.HostResolverHook}). Neither is required: {@code ssh NAME.vm} works without DNS through
 * {@code banger ssh-config install}.
 */
final class DnsChecks {

    static final Duration QUERY_TIMEOUT = Duration.ofSeconds(2);
    /** A name no VM can have (VM names are DNS labels without dots), to see the server answer NXDOMAIN. */
    static final String PROBE_NAME = "banger-doctor-probe.invalid-name.vm";

    private final Doctor.HostProbe host;
    private final BangerPaths paths;

    DnsChecks(Doctor.HostProbe host, BangerPaths paths) {
        this.host = host;
        this.paths = paths;
    }

    List<CheckResult> run() {
        Optional<InetSocketAddress> server;
        try {
            server = DaemonConfig.load(paths.configFile()).dnsAddress();
        } catch (IllegalArgumentException e) {
            return List.of(CheckResult.fail("dns-server", e.getMessage(), "fix dnsListen in " + paths.configFile(),
                    false), CheckResult.warn("dns-host", "not checked", "fix the dns-server problem first"));
        }
        if (server.isEmpty()) {
            return List.of(CheckResult.warn("dns-server", "off (dnsListen is 'off')",
                    "set dnsListen in " + paths.configFile() + " to e.g. " + DaemonConfig.DEFAULT_DNS_LISTEN),
                    CheckResult.warn("dns-host", "not checked: banger's DNS server is off", "see dns-server"));
        }
        String address = ResolvedRoute.format(server.get());
        List<VmView> running;
        try {
            VmList vms = new RpcClient(paths.socket()).call(Api.VM_LIST, Empty.INSTANCE);
            running = vms.vms().stream().filter(v -> "running".equals(v.state()) && v.guestIp() != null).toList();
        } catch (BangerException e) {
            return List.of(CheckResult.warn("dns-server", "not checked: the daemon is not running (it serves DNS on "
                    + address + ")", "start a VM, then run banger doctor again"),
                    CheckResult.warn("dns-host", "not checked: the daemon is not running",
                            "start a VM, then run banger doctor again"));
        }
        if (running.isEmpty()) {
            Optional<String> answer = query(server.get(), PROBE_NAME);
            CheckResult serverCheck = answer.isPresent() && answer.get().equals("NXDOMAIN")
                    ? CheckResult.pass("dns-server", "banger's DNS server answers on " + address
                            + " (no running VM to resolve)")
                    : CheckResult.fail("dns-server", "banger's DNS server on " + address + " did not answer ("
                            + answer.orElse("no answer") + ")", "see the daemon log: " + paths.daemonLog(), false);
            return List.of(serverCheck, CheckResult.pass("dns-host", "nothing to check until a VM runs"));
        }
        VmView vm = running.get(0);
        String name = vm.dnsName() != null ? vm.dnsName() : vm.name() + ".vm";
        Optional<String> answer = query(server.get(), name);
        CheckResult serverCheck = answer.isPresent() && answer.get().equals(vm.guestIp())
                ? CheckResult.pass("dns-server", "banger's DNS server on " + address + " answers " + name + " → "
                        + vm.guestIp())
                : CheckResult.fail("dns-server", "banger's DNS server on " + address + " answered " + name + " with "
                        + answer.orElse("nothing") + ", expected " + vm.guestIp(),
                        "see the daemon log: " + paths.daemonLog(), false);
        List<String> fromHost = host.resolve(name);
        CheckResult hostCheck;
        if (fromHost.contains(vm.guestIp())) {
            hostCheck = CheckResult.pass("dns-host", name + " resolves to " + vm.guestIp() + " from the host");
        } else {
            String hook = ResolvedRoute.commands(bridge(), server.get()).stream()
                    .map(argv -> String.join(" ", argv)).collect(Collectors.joining("; "));
            hostCheck = CheckResult.warn("dns-host", name + " does not resolve from the host"
                    + (fromHost.isEmpty() ? "" : " (got " + String.join(", ", fromHost) + ")"),
                    "with systemd-resolved (bangerd configures it itself when it runs): " + hook
                            + "; without it, ssh NAME.vm still works after: banger ssh-config install");
        }
        return List.of(serverCheck, hostCheck);
    }

    private String bridge() {
        try {
            return DaemonConfig.load(paths.configFile()).networkConfig().bridge();
        } catch (IllegalArgumentException e) {
            return "banger0";
        }
    }

    /** The A answer (an IP), or the rcode's name when there is none, or empty when the server did not answer. */
    static Optional<String> query(InetSocketAddress server, String name) {
        try {
            SimpleResolver resolver = new SimpleResolver(server);
            resolver.setTimeout(QUERY_TIMEOUT);
            Message response = resolver.send(Message.newQuery(Record.newRecord(Name.fromString(name + "."), Type.A,
                    DClass.IN)));
            for (Record r : response.getSection(Section.ANSWER)) {
                if (r instanceof ARecord a) {
                    return Optional.of(a.getAddress().getHostAddress());
                }
            }
            return Optional.of(Rcode.string(response.getRcode()));
        } catch (TextParseException e) {
            return Optional.of("a bad name: " + e.getMessage());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

}
