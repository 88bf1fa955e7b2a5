package dev.banger.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where banger keeps everything. Every file and directory name of the state, config and runtime trees is
 * defined here and nowhere else.
 *
 * <p>Resolution: when {@code BANGER_HOME} is set, state, config and runtime all live under it (tests and
 * side-by-side installs). Otherwise root uses {@code /var/lib/banger}, {@code /etc/banger} and
 * {@code /run/banger}, and so do other users who can reach its socket (members of its {@code socketGroup}); other
 * users follow XDG ({@code ~/.local/state/banger}, {@code ~/.config/banger},
 * {@code $XDG_RUNTIME_DIR/banger} or {@code /tmp/banger-UID}).
 */
public record BangerPaths(Path stateDir, Path configDir, Path runtimeDir) {

    public static final String HOME_ENV = "BANGER_HOME";

    public BangerPaths {
        stateDir = stateDir.toAbsolutePath().normalize();
        configDir = configDir.toAbsolutePath().normalize();
        runtimeDir = runtimeDir.toAbsolutePath().normalize();
    }

    /** The root daemon's paths, which a member of its {@code socketGroup} uses too. */
    static final BangerPaths SYSTEM = new BangerPaths(Path.of("/var/lib/banger"), Path.of("/etc/banger"),
            Path.of("/run/banger"));

    /** Paths for this process, from its environment. */
    public static BangerPaths fromEnvironment() {
        long uid = currentUid();
        // Only a member of the socket group (or root) can see the socket in the root daemon's runtime dir.
        boolean systemSocketReachable = uid != 0 && Files.exists(SYSTEM.socket());
        return resolve(System.getenv(), System.getProperty("user.home"), uid, systemSocketReachable);
    }

    /** Paths for the given environment; separated from {@link #fromEnvironment()} so tests can feed one. */
    public static BangerPaths resolve(Map<String, String> env, String userHome, long uid) {
        return resolve(env, userHome, uid, false);
    }

    /**
     * As {@link #resolve(Map, String, long)}; a user who is not root and can reach the root daemon's socket
     * ({@code systemSocketReachable}: a member of its socket group) uses the root daemon's paths.
     */
    public static BangerPaths resolve(Map<String, String> env, String userHome, long uid,
                                      boolean systemSocketReachable) {
        String home = env.get(HOME_ENV);
        if (home != null && !home.isBlank()) {
            Path base = Path.of(home);
            return new BangerPaths(base.resolve("state"), base.resolve("config"), base.resolve("run"));
        }
        if (uid == 0 || systemSocketReachable) {
            return SYSTEM;
        }
        Path userHomeDir = Path.of(userHome);
        Path state = xdg(env, "XDG_STATE_HOME", userHomeDir.resolve(".local/state")).resolve("banger");
        Path config = xdg(env, "XDG_CONFIG_HOME", userHomeDir.resolve(".config")).resolve("banger");
        String xdgRuntime = env.get("XDG_RUNTIME_DIR");
        Path runtime = xdgRuntime != null && !xdgRuntime.isBlank()
                ? Path.of(xdgRuntime).resolve("banger")
                : Path.of("/tmp", "banger-" + uid);
        return new BangerPaths(state, config, runtime);
    }

    private static Path xdg(Map<String, String> env, String name, Path fallback) {
        String value = env.get(name);
        return value != null && !value.isBlank() && Path.of(value).isAbsolute() ? Path.of(value) : fallback;
    }

    static long currentUid() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        } catch (Exception e) {
            return -1;
        }
    }

    // --- runtime tree (sockets; cleared at host reboot) ---

    public Path socket() {
        return runtimeDir.resolve("bangerd.sock");
    }

    /** Per-VM sockets live under the runtime dir, keyed by the short VM id, to stay within the 107-byte limit. */
    public Path vmRuntimeDir(String vmId) {
        return runtimeDir.resolve("vms").resolve(vmId);
    }

    public Path vmControlSocket(String vmId) {
        return vmRuntimeDir(vmId).resolve("control.sock");
    }

    public Path vmAgentSocket(String vmId) {
        return vmRuntimeDir(vmId).resolve("agent.sock");
    }

    // --- state tree ---

    public Path database() {
        return stateDir.resolve("banger.db");
    }

    public Path daemonLock() {
        return stateDir.resolve("bangerd.lock");
    }

    public Path logDir() {
        return stateDir.resolve("logs");
    }

    /** Present while bangerd's NAT set-up has turned {@code net.ipv4.ip_forward} on (cleanup turns it off). */
    public Path natForwardingMarker() {
        return stateDir.resolve("network").resolve("ip_forward-enabled-by-banger");
    }

    public Path daemonLog() {
        return logDir().resolve("bangerd.log");
    }

    /** Where a detached daemon's stdout/stderr go (JVM crashes, early start-up failures). */
    public Path daemonConsoleLog() {
        return logDir().resolve("bangerd.out");
    }

    public Path vmsDir() {
        return stateDir.resolve("vms");
    }

    public Path vmDir(String vmId) {
        return vmsDir().resolve(vmId);
    }

    public Path vmConsoleLog(String vmId) {
        return vmDir(vmId).resolve("console.log");
    }


    public Path vmWorkDisk(String vmId) {
        return vmDir(vmId).resolve("work.ext4");
    }

    public Path vmHandlesFile(String vmId) {
        return vmDir(vmId).resolve("handles.json");
    }

    /** Where the work disk's contents are laid out before {@code mkfs.ext4 -d}; removed once the disk exists. */
    public Path vmWorkSeedDir(String vmId) {
        return vmDir(vmId).resolve("work-seed");
    }

    public Path imagesDir() {
        return stateDir.resolve("images");
    }

    /** Captured guests that new VMs restore from (docs/snapshots.md), one directory per template. */
    public Path templatesDir() {
        return stateDir.resolve("templates");
    }

    public Path kernelsDir() {
        return stateDir.resolve("kernels");
    }

    /** The content store of image blobs, by digest, shared by all pulls. */
    public Path blobsDir() {
        return stateDir.resolve("blobs");
    }

    /** Where image pulls stage their trees (on the state dir's file system, so publishing is a rename). */
    public Path imageWorkDir() {
        return stateDir.resolve("tmp");
    }

    /** Where the daemon copies the local files a client that is not root names, read as that client. */
    public Path clientInputsDir() {
        return imageWorkDir().resolve("client-inputs");
    }

    /**
     * A tmpfs directory for staging small image pulls (creating files there is an order of magnitude cheaper than
     * on a journalled disk), unique to this state dir; empty when the host has no /dev/shm.
     */
    public java.util.Optional<Path> scratchDir() {
        Path shm = Path.of("/dev/shm");
        if (!java.nio.file.Files.isDirectory(shm)) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(shm.resolve("banger-" + Integer.toHexString(stateDir.toString().hashCode())));
    }

    // --- config tree ---

    public Path configFile() {
        return configDir.resolve("config.json");
    }

    /** banger's SSH material (0700): the user key, known_hosts, the client config for {@code Host *.vm}. */
    public Path sshDir() {
        return configDir.resolve("ssh");
    }

    /** banger's user key (ed25519, OpenSSH format, 0600); its public half is {@link #sshPublicKey()}. */
    public Path sshPrivateKey() {
        return sshDir().resolve("id_ed25519");
    }

    public Path sshPublicKey() {
        return sshDir().resolve("id_ed25519.pub");
    }

    /** The pinned host keys of banger's VMs, one line per VM naming {@code NAME.vm} and its IP. */
    public Path sshKnownHosts() {
        return sshDir().resolve("known_hosts");
    }

    /** The ssh client config with the {@code Host *.vm} stanza that {@code ssh-config install} includes. */
    public Path sshClientConfig() {
        return sshDir().resolve("config");
    }

    /** Serialises key creation and known_hosts edits between the daemon and CLIs. */
    public Path sshLock() {
        return sshDir().resolve(".lock");
    }
}
