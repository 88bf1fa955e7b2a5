package dev.banger.host.network;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.testkit.RecordingCommandRunner;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The exact ip/iptables sequences, recorded: what a fresh host, a configured host and NAT each cost. */
class HostNetworkTest {

    private static final NetworkConfig PLAIN = new NetworkConfig("banger0", Ipv4Network.parse("172.30.77.0/24"),
            false, List.of("9.9.9.9"));
    private static final Path MARKER = Path.of("/nonexistent/marker");
    private static final NetworkConfig NAT = new NetworkConfig("banger0", Ipv4Network.parse("172.30.77.0/24"),
            true, List.of());

    @Test
    void aFreshHostGetsABridgeWithTheFirstAddress() {
        RecordingCommandRunner ip = new RecordingCommandRunner();
        ip.when("ip", "-j", "link", "show", "dev", "banger0").thenFail(1, "Device \"banger0\" does not exist.");
        ip.when("ip", "-j", "-4", "addr", "show").thenReturn("[]");

        new HostNetwork(ip, PLAIN, MARKER).ensureBridge();

        assertThat(ip.commandLines()).containsExactly(
                "ip -j link show dev banger0",
                "ip link add name banger0 address 02:b4:6e:1e:4d:01 type bridge",
                "ip -j -4 addr show dev banger0",
                "ip addr add 172.30.77.1/24 dev banger0",
                "ip link set banger0 up");
    }

    @Test
    void aBridgeWithoutItsOwnMacGetsIt() {
        RecordingCommandRunner ip = bridgeWithMac("5e:11:22:33:44:55");

        new HostNetwork(ip, PLAIN, MARKER).ensureBridge();

        assertThat(ip.commandLines()).containsExactly("ip -j link show dev banger0",
                "ip link set banger0 address 02:b4:6e:1e:4d:01", "ip -j -4 addr show dev banger0",
                "ip link set banger0 up");
    }

    @Test
    void aConfiguredBridgeIsLeftAsItIs() {
        RecordingCommandRunner ip = bridgeWithMac("02:b4:6e:1e:4d:01");

        new HostNetwork(ip, PLAIN, MARKER).ensureBridge();

        assertThat(ip.commandLines()).containsExactly("ip -j link show dev banger0",
                "ip -j -4 addr show dev banger0", "ip link set banger0 up");
    }

    @Test
    void theBridgeBringsNatAndTheBridgeUpListener(@TempDir Path state) {
        RecordingCommandRunner host = new RecordingCommandRunner();
        host.when("ip", "-j", "link", "show").thenReturn("[{\"ifname\":\"banger0\"}]");
        host.when("ip", "-j", "-4", "addr", "show").thenReturn("[{\"addr_info\":[{\"local\":\"172.30.77.1\"}]}]");
        host.when("sysctl", "-n").thenReturn("1\n");
        int[] listened = {0};

        HostNetwork network = new HostNetwork(host, NAT, state.resolve("marker"));
        network.onBridgeUp(() -> listened[0]++);
        network.ensureBridge();

        assertThat(host.commandLines()).filteredOn(l -> !l.startsWith("ip ")).startsWith(
                "sysctl -n net.ipv4.ip_forward",
                "iptables -w -t nat -S BANGER-POSTROUTING",
                "iptables -w -t nat -C BANGER-POSTROUTING -s 172.30.77.0/24 ! -o banger0 -j MASQUERADE",
                "iptables -w -t nat -C POSTROUTING -j BANGER-POSTROUTING");
        assertThat(listened[0]).isEqualTo(1);
    }

    @Test
    void natThatCannotBeSetUpDoesNotFailTheBridge(@TempDir Path state) {
        RecordingCommandRunner host = new RecordingCommandRunner();
        host.when("ip", "-j", "link", "show").thenReturn("[{\"ifname\":\"banger0\"}]");
        host.when("ip", "-j", "-4", "addr", "show").thenReturn("[{\"addr_info\":[{\"local\":\"172.30.77.1\"}]}]");
        host.when("sysctl").thenFail(127, "sysctl: not found");
        int[] listened = {0};

        HostNetwork network = new HostNetwork(host, NAT, state.resolve("marker"));
        network.onBridgeUp(() -> listened[0]++);
        network.ensureBridge();

        assertThat(listened[0]).as("guest DNS still starts").isEqualTo(1);
        assertThat(host.commandLines()).noneMatch(l -> l.startsWith("iptables"));
    }

    @Test
    void onceTheBridgeIsCheckedATapCostsTwoCalls() {
        RecordingCommandRunner ip = configuredBridge();
        HostNetwork network = new HostNetwork(ip, PLAIN, MARKER);
        network.createTap(HostNetwork.tapName("0123456789ab"));
        int first = ip.commandLines().size();

        network.createTap(HostNetwork.tapName("ba9876543210"));

        assertThat(ip.commandLines().subList(0, first)).as("the first tap checks the bridge")
                .startsWith("ip -j link show dev banger0").endsWith("ip tuntap add dev bt0123456789ab mode tap",
                        "ip link set bt0123456789ab master banger0 up");
        assertThat(ip.commandLines().subList(first, ip.commandLines().size())).containsExactly(
                "ip tuntap add dev btba9876543210 mode tap", "ip link set btba9876543210 master banger0 up");
    }

    @Test
    void aTapThatCannotBeAttachedRepairsTheBridgeOnceAndLeavesNoTap() {
        RecordingCommandRunner ip = configuredBridge();
        ip.when("ip", "link", "set", "bt0123456789ab", "master").thenFail(2, "RTNETLINK answers: No such device");
        HostNetwork network = new HostNetwork(ip, PLAIN, MARKER);

        try {
            network.createTap(HostNetwork.tapName("0123456789ab"));
            throw new AssertionError("expected the attach to fail");
        } catch (IllegalStateException expected) {
            assertThat(expected).hasMessageContaining("attach tap bt0123456789ab to banger0");
        }

        assertThat(ip.commandLines()).filteredOn(l -> l.equals("ip -j link show dev banger0"))
                .as("checked at the first tap, then once more to repair").hasSize(2);
        assertThat(ip.commandLines()).filteredOn(l -> l.startsWith("ip tuntap add")).hasSize(2);
        assertThat(ip.commandLines().get(ip.commandLines().size() - 1)).as("the half-made tap is removed")
                .isEqualTo("ip link del bt0123456789ab");
    }

    private static RecordingCommandRunner configuredBridge() {
        return bridgeWithMac("02:b4:6e:1e:4d:01");
    }

    /** A bridge banger0 with the host address, whose MAC is {@code mac}. */
    private static RecordingCommandRunner bridgeWithMac(String mac) {
        RecordingCommandRunner ip = new RecordingCommandRunner();
        ip.when("ip", "-j", "link", "show", "dev", "banger0").thenReturn(
                "[{\"ifname\":\"banger0\",\"address\":\"" + mac + "\"}]");
        ip.when("ip", "-j", "-4", "addr", "show").thenReturn(
                "[{\"addr_info\":[{\"local\":\"172.30.77.1\",\"prefixlen\":24}]}]");
        return ip;
    }

    @Test
    void guestsLearnAddressGatewayAndNameservers() {
        assertThat(new HostNetwork(new RecordingCommandRunner(), PLAIN, MARKER).guestKernelArgs("172.30.77.9"))
                .isEqualTo("banger.ip=172.30.77.9/24 banger.gw=172.30.77.1 banger.dns=9.9.9.9");
    }

    @Test
    void allocationTakesTheLowestFreeAddressAndCid() {
        AddressAllocator allocator = new AddressAllocator(PLAIN);

        GuestAddress first = allocator.allocate(Set.of(), Set.of());
        GuestAddress next = allocator.allocate(Set.of("172.30.77.2", "172.30.77.4"), Set.of(3L, 4L));

        assertThat(first).isEqualTo(new GuestAddress("172.30.77.2", "02:b4:6e:1e:4d:02", 3));
        assertThat(next.ip()).isEqualTo("172.30.77.3");
        assertThat(next.cid()).isEqualTo(5);
    }

    @Test
    void aFullSubnetSaysWhatToDo() {
        NetworkConfig tiny = new NetworkConfig("banger0", Ipv4Network.parse("10.9.9.0/29"), false, List.of());
        Set<String> used = Set.of("10.9.9.2", "10.9.9.3", "10.9.9.4", "10.9.9.5", "10.9.9.6");

        try {
            new AddressAllocator(tiny).allocate(used, Set.of());
            throw new AssertionError("expected a full subnet");
        } catch (IllegalStateException e) {
            assertThat(e).hasMessageContaining("10.9.9.0/29 is full").hasMessageContaining("larger \"subnet\"");
        }
    }
}
