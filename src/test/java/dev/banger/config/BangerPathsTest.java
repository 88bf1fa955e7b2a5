package dev.banger.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BangerPathsTest {

    @Test
    void bangerHomeHoldsEverything() {
        BangerPaths p = BangerPaths.resolve(Map.of("BANGER_HOME", "/tmp/h", "XDG_STATE_HOME", "/x"), "/home/u", 1000);

        assertThat(p.stateDir()).isEqualTo(Path.of("/tmp/h/state"));
        assertThat(p.configDir()).isEqualTo(Path.of("/tmp/h/config"));
        assertThat(p.runtimeDir()).isEqualTo(Path.of("/tmp/h/run"));
        assertThat(p.socket()).isEqualTo(Path.of("/tmp/h/run/bangerd.sock"));
        assertThat(p.database()).isEqualTo(Path.of("/tmp/h/state/banger.db"));
        assertThat(p.sshPrivateKey()).isEqualTo(Path.of("/tmp/h/config/ssh/id_ed25519"));
        assertThat(p.sshKnownHosts()).isEqualTo(Path.of("/tmp/h/config/ssh/known_hosts"));
        assertThat(p.sshClientConfig()).isEqualTo(Path.of("/tmp/h/config/ssh/config"));
    }

    @Test
    void rootUsesSystemDirectories() {
        BangerPaths p = BangerPaths.resolve(Map.of(), "/root", 0);

        assertThat(p.stateDir()).isEqualTo(Path.of("/var/lib/banger"));
        assertThat(p.configDir()).isEqualTo(Path.of("/etc/banger"));
        assertThat(p.runtimeDir()).isEqualTo(Path.of("/run/banger"));
    }

    @Test
    void usersFollowXdgWithFallbacks() {
        BangerPaths xdg = BangerPaths.resolve(Map.of("XDG_STATE_HOME", "/s", "XDG_CONFIG_HOME", "/c",
                "XDG_RUNTIME_DIR", "/run/user/1000"), "/home/u", 1000);
        BangerPaths bare = BangerPaths.resolve(Map.of("XDG_STATE_HOME", "relative"), "/home/u", 1000);

        assertThat(xdg.stateDir()).isEqualTo(Path.of("/s/banger"));
        assertThat(xdg.configDir()).isEqualTo(Path.of("/c/banger"));
        assertThat(xdg.runtimeDir()).isEqualTo(Path.of("/run/user/1000/banger"));
        assertThat(bare.stateDir()).as("relative XDG paths are ignored, as the spec says")
                .isEqualTo(Path.of("/home/u/.local/state/banger"));
        assertThat(bare.runtimeDir()).isEqualTo(Path.of("/tmp/banger-1000"));
    }

    @Test
    void aUserWhoCanReachTheRootDaemonsSocketUsesItsPaths() {
        BangerPaths member = BangerPaths.resolve(Map.of("XDG_RUNTIME_DIR", "/run/user/1000"), "/home/u", 1000, true);
        BangerPaths withHome = BangerPaths.resolve(Map.of("BANGER_HOME", "/tmp/h"), "/home/u", 1000, true);

        assertThat(member.socket()).isEqualTo(Path.of("/run/banger/bangerd.sock"));
        assertThat(member.stateDir()).isEqualTo(Path.of("/var/lib/banger"));
        assertThat(withHome.socket()).as("BANGER_HOME still wins").isEqualTo(Path.of("/tmp/h/run/bangerd.sock"));
    }

    @Test
    void vmSocketsStayShortEnoughForUnixSockets() {
        BangerPaths p = BangerPaths.resolve(Map.of(), "/root", 0);

        assertThat(p.vmAgentSocket("0123456789ab").toString().length()).isLessThan(60);
    }
}
