package dev.banger.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.host.network.NetworkConfig;
import dev.banger.json.Json;
import dev.banger.model.VmmKind;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DaemonConfigTest {

    @TempDir
    Path dir;

    @Test
    void dnsAddress_defaultsToLoopbackAwayFromMdnsAndLlmnr() {
        assertThat(DaemonConfig.DEFAULTS.dnsAddress()).contains(new InetSocketAddress("127.0.0.1", 5553));
        assertThat(Json.read("{}", DaemonConfig.class).dnsAddress()).contains(new InetSocketAddress("127.0.0.1", 5553));
    }

    @Test
    void dnsAddress_takesHostPortIpv6OrOff() {
        assertThat(config("127.0.0.1:5300").dnsAddress()).contains(new InetSocketAddress("127.0.0.1", 5300));
        assertThat(config("[::1]:5300").dnsAddress()).contains(new InetSocketAddress("::1", 5300));
        assertThat(config("off").dnsAddress()).isEqualTo(Optional.empty());
    }

    @Test
    void dnsAddress_rejectsNamesAndBadPorts() {
        for (String bad : new String[] {"localhost:53", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", ":53"}) {
            assertThatThrownBy(() -> config(bad).dnsAddress()).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("dnsListen");
        }
    }

    @Test
    void defaultVmm_isAutoUnlessItNamesAVmm() {
        assertThat(DaemonConfig.DEFAULTS.vmmOverride()).isEmpty();
        assertThat(Json.read("{}", DaemonConfig.class).vmmOverride()).isEmpty();
        assertThat(Json.read("{\"defaultVmm\": \"auto\"}", DaemonConfig.class).vmmOverride()).isEmpty();
        assertThat(Json.read("{\"defaultVmm\": \"firecracker\"}", DaemonConfig.class).vmmOverride())
                .contains(VmmKind.FIRECRACKER);
        assertThatThrownBy(() -> Json.read("{\"defaultVmm\": \"kvm\"}", DaemonConfig.class).vmmOverride())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("defaultVmm 'kvm' in config.json is not auto, qemu or firecracker; fix the file");
    }

    @Test
    void images_readsTheStagingBudgetsAndExpansion_andRefusesNonsense() {
        DaemonConfig.Images set = Json.read("{\"images\": {\"stagingTmpfsMib\": 0, \"stagingDiskMib\": 2048,"
                + " \"maxLayerExpansion\": 500}}", DaemonConfig.class).imageSettings();
        assertThat(set).isEqualTo(new DaemonConfig.Images(0L, 2048L, 500L));
        assertThat(Json.read("{}", DaemonConfig.class).imageSettings()).isEqualTo(new DaemonConfig.Images(null, null,
                null));
        assertThatThrownBy(() -> Json.read("{\"images\": {\"stagingDiskMib\": 0}}", DaemonConfig.class)
                .imageSettings()).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("images.stagingDiskMib must be at least 1, not 0");
        assertThatThrownBy(() -> Json.read("{\"images\": {\"maxLayerExpansion\": -1}}", DaemonConfig.class)
                .imageSettings()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("images.maxLayerExpansion");
    }

    @Test
    void guestSyncPeriod_defaultsToAMinuteAndRefusesZero() {
        assertThat(Json.read("{}", DaemonConfig.class).guestSyncPeriod()).hasSeconds(60);
        assertThat(Json.read("{\"guestSyncSeconds\": 2}", DaemonConfig.class).guestSyncPeriod()).hasSeconds(2);
        assertThatThrownBy(() -> Json.read("{\"guestSyncSeconds\": 0}", DaemonConfig.class).guestSyncPeriod())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("guestSyncSeconds");
    }

    @Test
    void natIsOnAndGuestsAskTheBridgeUnlessConfiguredOtherwise() {
        NetworkConfig defaults = Json.read("{}", DaemonConfig.class).networkConfig();
        NetworkConfig optedOut = Json.read("{\"network\": {\"nat\": false, \"subnet\": \"10.5.0.0/24\", "
                + "\"dns\": [\"9.9.9.9\"]}}", DaemonConfig.class).networkConfig();

        assertThat(defaults.nat()).isTrue();
        assertThat(defaults.dns()).containsExactly("172.30.77.1");
        assertThat(defaults.guestDnsOnBridge()).isTrue();
        assertThat(optedOut.nat()).isFalse();
        assertThat(optedOut.dns()).containsExactly("9.9.9.9");
        assertThat(optedOut.guestDnsOnBridge()).as("guests told to ask elsewhere: no server on the bridge").isFalse();
    }

    @Test
    void copiesGoOverTheNetworkUnlessConfiguredOtherwise() {
        assertThat(Json.read("{}", DaemonConfig.class).copyOverNetwork()).isTrue();
        assertThat(Json.read("{\"network\": {\"nat\": false}}", DaemonConfig.class).copyOverNetwork()).isTrue();
        assertThat(Json.read("{\"network\": {\"copyOverNetwork\": false}}", DaemonConfig.class).copyOverNetwork())
                .isFalse();
    }

    private static DaemonConfig config(String dnsListen) {
        return Json.read("{\"dnsListen\": \"" + dnsListen + "\"}", DaemonConfig.class);
    }

    @Test
    void load_refusesDefaultImage_sayingWhereTheDefaultImageIsSet() throws IOException {
        Path file = Files.writeString(dir.resolve("config.json"), "{\"defaultCpus\": 4, \"defaultImage\": \"x\"}");

        assertThatThrownBy(() -> DaemonConfig.load(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("banger image default NAME");
        Files.writeString(file, "{\"defaultCpus\": 4}");
        assertThat(DaemonConfig.load(file).cpus()).isEqualTo(4);
    }

    @Test
    void fingerprint_changesWithTheContentOnly() throws IOException {
        Path file = dir.resolve("config.json");
        assertThat(DaemonConfig.fingerprint(file)).isEqualTo("absent");
        Files.writeString(file, "{\"defaultCpus\": 4}");
        String first = DaemonConfig.fingerprint(file);

        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(0));
        assertThat(DaemonConfig.fingerprint(file)).as("touching is not changing").isEqualTo(first);
        Files.writeString(file, "{\"defaultCpus\": 8}");
        assertThat(DaemonConfig.fingerprint(file)).isNotEqualTo(first).hasSize(64);
    }
}
