package dev.banger.vmm.firecracker;

import dev.banger.json.Json;
import dev.banger.json.JsonException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import java.util.regex.Pattern;

/**
 * A stand-in for Firecracker's API server, for tests on hosts where Firecracker cannot run. It serves the API on a
 * Unix socket the way Firecracker's micro_http server does ({@code HTTP/1.1 204 } with no reason phrase,
 * {@code Server: Firecracker API}, {@code Connection: keep-alive}, JSON error bodies {@code {"fault_message":
 * "..."}}) and applies the rules real Firecracker applies:
 *
 * <ul>
 *   <li>every body is checked against its endpoint's type in the project's description of Firecracker's API
 *       ({@link FirecrackerApiSpec}): missing required fields, wrong types, unknown enum values and unknown fields
 *       (serde {@code deny_unknown_fields}) are a 400 "An error occurred when deserializing the json body of a
 *       request: ...";
 *   <li>path ids are letters, digits and {@code _} and must equal the body's id;
 *   <li>files are checked as Firecracker opens them: the logger and metrics files are created when missing (their
 *       directory must exist); the kernel, the initrd and drive images must exist; the vsock {@code uds_path} is
 *       bound at {@code PUT /vsock} and must not exist; a tap must be one the test declared as existing;
 *   <li>{@code InstanceStart} needs a boot source (machine-config defaults to 1 vCPU / 128 MiB when never set,
 *       as in Firecracker) and an ELF kernel; it is accepted once; pre-boot-only endpoints (boot-source, logger,
 *       metrics, machine-config, drives, network-interfaces, vsock, ...) are refused after it with Firecracker's
 *       "The requested operation is not supported after starting the microVM.";
 *   <li>{@code SendCtrlAltDel} is refused before start and accepted after it; what follows is the guest's doing;
 *   <li>{@code PATCH /vm} pauses and resumes after start; {@code /snapshot/create} needs a paused VM and resets the
 *       vsock device; {@code /snapshot/load} needs a fresh process (only the logger and metrics configured) and
 *       exactly one of {@code mem_backend} and {@code mem_file_path}; a load that fails once it has read the
 *       snapshot file answers 400 and ends the process (see docs/firecracker.md).
 * </ul>
 *
 * <p>The guest is modelled, not assumed. {@code InstanceStart} "boots" it: a real {@code banger-init agent} in host
 * mode whose {@code --guest-root} holds {@code proc/cmdline} (the boot args) and {@code sys/firmware/acpi}
 * (Firecracker gives x86 guests ACPI tables since 1.8), so on its way out it prints how PID 1 would end the
 * machine. The fake then does what Firecracker on x86 does: a guest reboot (the keyboard controller's reset
 * line) ends the process; a guest power-off only halts the CPUs (no ACPI power management), so the process keeps
 * running, its API still answers, and nothing in the guest listens any more; a guest whose init dies panics and,
 * with a {@code panic=} timeout, reboots. {@code SendCtrlAltDel} presses the keys on the emulated i8042: an ACPI
 * kernel booted with {@code i8042.nopnp} never probed that keyboard and sees nothing; otherwise PID 1 gets SIGINT
 * (banger-init disables the kernel's own Ctrl-Alt-Del reboot), unless the guest already halted. Without a guest
 * binary nothing in the guest listens or reacts.
 *
 * <p>After {@code InstanceStart} the vsock socket answers {@code CONNECT 1024\n} with {@code OK <n>\n} and proxies
 * the connection to the guest agent's socket; other ports, and any connection before start or while nothing
 * listens, are closed as Firecracker does. Every request is recorded (method, path, body, status) in memory and,
 * when a record file is given, as one JSON line per request. Fault messages follow Firecracker's wording where
 * known; positions ("at line 1 column N") are left out.
 */
final class FakeFirecracker implements AutoCloseable {

    static final String VERSION = "1.17.0-dev";
    static final String POST_BOOT = "The requested operation is not supported after starting the microVM.";
    static final String PRE_BOOT = "The requested operation is not supported before starting the microVM.";
    static final String SERDE = "An error occurred when deserializing the json body of a request: ";
    static final int AGENT_PORT = 1024;
    static final String CREATE_WHILE_RUNNING = "Create snapshot error: Cannot save the microVM state: Operation not "
            + "allowed: save/restore unavailable while running";
    static final String LOAD_MISSING_FIELD = "missing field: either `mem_backend` or `mem_file_path` is required";
    static final String LOAD_TOO_MANY_FIELDS =
            "too many fields: either `mem_backend` or `mem_file_path` exclusively is required";
    static final String RESTORE = "Load snapshot error: Failed to restore from snapshot: ";
    static final String DEVICES = RESTORE + "Failed to build microVM from snapshot: Failed to restore devices: "
            + "Error restoring MMIO devices: ";

    private static final Pattern RESOURCE_ID = Pattern.compile("[A-Za-z0-9_]+");
    private static final Pattern MAC = Pattern.compile("(?i)[0-9a-f]{2}(:[0-9a-f]{2}){5}");
    private static final int CMDLINE_MAX = 2048;

    /**
     * How the fake is set up.
     *
     * @param apiSocket the API socket (Firecracker's {@code --api-sock})
     * @param instanceId the instance id ({@code --id}); Firecracker's default is "anonymous-instance"
     * @param spec the API description bodies are checked against
     * @param recordFile where to append one JSON line per request, or null
     * @param guestBinary banger-init, run as the guest from {@code InstanceStart} on, or null for a guest where
     *     nothing listens or reacts
     * @param guestDir the guest's pretend root and its agent socket (vsock port 1024 leads there)
     * @param taps the tap devices that "exist" on this pretend host; {@code bt*} stands for every name starting "bt"
     * @param console where the guest console goes (Firecracker's stdout), or null
     * @param onExit run with the exit code when Firecracker would exit: 0 when the guest reboots, 1 after a
     *     snapshot load failed half-way (the process main exits here)
     */
    record Options(Path apiSocket, String instanceId, FirecrackerApiSpec spec, Path recordFile, Path guestBinary,
                   Path guestDir, Set<String> taps, PrintStream console, IntConsumer onExit) {
    }

    /** What became of the guest: still running, halted (the process stays), or rebooted (the process ends). */
    enum GuestState { NONE, RUNNING, HALTED, REBOOTED }

    /** One request as received, with the status it was answered. */
    record Recorded(String method, String path, Object body, int status, String fault) {
    }

    private final Options options;
    private final ServerSocketChannel api;
    private final List<Recorded> requests = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> closeables = new CopyOnWriteArrayList<>();
    private final AtomicLong nextHostPort = new AtomicLong(1L << 30);
    private final Object lock = new Object();
    private volatile boolean closed;
    private volatile Process guest;
    private volatile GuestState guestState = GuestState.NONE;

    // VM resources, guarded by lock.
    private String state = "Not started";
    private Map<?, ?> machineConfig;
    private Map<?, ?> bootSource;
    private final Map<String, Map<?, ?>> drives = new LinkedHashMap<>();
    private final Map<String, Map<?, ?>> nics = new LinkedHashMap<>();
    private Map<?, ?> vsock;
    private ServerSocketChannel vsockListener;
    private Path metricsPath;
    /** Set by any boot-specific configuration (not the logger or metrics): a snapshot load is refused after it. */
    private boolean bootPath;
    /** The host ends of the proxied vsock connections; a snapshot resets the device and closes them. */
    private final List<SocketChannel> vsockConnections = new CopyOnWriteArrayList<>();

    private FakeFirecracker(Options options, ServerSocketChannel api) {
        this.options = options;
        this.api = api;
    }

    /** Binds the API socket (which must not exist, as for Firecracker) and starts serving. */
    static FakeFirecracker start(Options options) throws IOException {
        if (Files.exists(options.apiSocket())) {
            throw new IOException("Failed to open the API socket at: " + options.apiSocket()
                    + ". Check that it is not already used.");
        }
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(options.apiSocket()));
        FakeFirecracker fake = new FakeFirecracker(options, server);
        fake.daemon("fake-firecracker-api", fake::acceptApi);
        return fake;
    }

    List<Recorded> requests() {
        return List.copyOf(requests);
    }

    String state() {
        synchronized (lock) {
            return state;
        }
    }

    // ---- HTTP ----

    private void acceptApi() {
        while (!closed) {
            SocketChannel c;
            try {
                c = api.accept();
            } catch (IOException e) {
                return;
            }
            closeables.add(c);
            daemon("fake-firecracker-conn", () -> serve(c));
        }
    }

    /** One keep-alive connection: requests are answered in order until the client closes it. */
    private void serve(SocketChannel c) {
        try (c) {
            HttpIn in = new HttpIn(c);
            while (true) {
                String requestLine = in.line();
                if (requestLine == null) {
                    return;
                }
                String[] parts = requestLine.split(" ");
                Map<String, String> headers = new LinkedHashMap<>();
                for (String h = in.line(); h != null && !h.isEmpty(); h = in.line()) {
                    int colon = h.indexOf(':');
                    if (colon > 0) {
                        headers.put(h.substring(0, colon).strip().toLowerCase(Locale.ROOT),
                                h.substring(colon + 1).strip());
                    }
                }
                if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
                    write(c, 400, fault("Invalid HTTP request line: " + requestLine));
                    return;
                }
                byte[] body = null;
                if (headers.containsKey("content-length")) {
                    body = in.exactly(Integer.parseInt(headers.get("content-length")));
                } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                    write(c, 400, fault("fake Firecracker: chunked request bodies are not supported"));
                    return;
                }
                Answer answer;
                synchronized (lock) {
                    answer = handle(parts[0], parts[1], body == null || body.length == 0 ? null : body);
                }
                write(c, answer.status(), answer.body());
                if (answer.after() != null) {
                    answer.after().run();
                }
            }
        } catch (IOException e) {
            // client went away
        }
    }

    private record Answer(int status, String body, Runnable after) {
        Answer(int status, String body) {
            this(status, body, null);
        }
    }

    private static void write(SocketChannel c, int status, String body) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append("HTTP/1.1 ").append(status).append(" \r\n");
        sb.append("Server: Firecracker API\r\n");
        sb.append("Connection: keep-alive\r\n");
        byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        if (status != 204) {
            sb.append("Content-Type: application/json\r\n");
            sb.append("Content-Length: ").append(b.length).append("\r\n");
        }
        sb.append("\r\n");
        ByteBuffer out = ByteBuffer.allocate(sb.length() + b.length);
        out.put(sb.toString().getBytes(StandardCharsets.US_ASCII)).put(b).flip();
        while (out.hasRemaining()) {
            c.write(out);
        }
    }

    private static String fault(String message) {
        return Json.write(Map.of("fault_message", message));
    }

    // ---- API semantics (caller holds lock) ----

    private Answer handle(String method, String target, byte[] rawBody) {
        Object body = null;
        String bodyError = null;
        if (rawBody != null) {
            try {
                body = Json.parseTree(new String(rawBody, StandardCharsets.UTF_8));
            } catch (JsonException e) {
                bodyError = e.getMessage();
            }
        }
        Answer a = route(method, target, rawBody, body, bodyError);
        String faultText = null;
        if (a.status() >= 400) {
            Object tree = Json.parseTree(a.body());
            faultText = tree instanceof Map<?, ?> m ? String.valueOf(m.get("fault_message")) : a.body();
        }
        Recorded r = new Recorded(method, target, body != null ? body
                : rawBody == null ? null : new String(rawBody, StandardCharsets.UTF_8), a.status(), faultText);
        requests.add(r);
        record(r);
        return a;
    }

    private Answer route(String method, String target, byte[] rawBody, Object body, String bodyError) {
        String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
        String[] tokens = path.replaceFirst("^/+", "").split("/", -1);
        String resource = tokens[0];
        String id = tokens.length > 1 ? tokens[1] : null;
        if (method.equals("GET")) {
            if (rawBody != null) {
                return bad("GET request cannot have a body.");
            }
            return switch (resource) {
                case "" -> new Answer(200, Json.write(instanceInfo()));
                case "version" -> new Answer(200, Json.write(Map.of("firecracker_version", VERSION)));
                case "machine-config" -> new Answer(200, Json.write(machineConfigOrDefault()));
                default -> bad("Invalid request method and/or path: GET " + resource + ".");
            };
        }
        if (!method.equals("PUT") && !method.equals("PATCH")) {
            return bad("Invalid request method and/or path: " + method + " " + resource + ".");
        }
        if (rawBody == null) {
            return bad("Empty " + method + " request.");
        }
        if (bodyError != null) {
            return bad(SERDE + bodyError + ".");
        }
        if (method.equals("PATCH")) {
            if (!path.equals("/vm")) {
                if (options.spec().endpoint("PATCH", path).isPresent()) {
                    return bad("fake Firecracker does not implement PATCH " + path);
                }
                return bad("Invalid request method and/or path: PATCH " + resource + ".");
            }
            String problem = schemaProblem(method, path, body);
            if (problem != null) {
                return bad(SERDE + problem + ".");
            }
            return patchVm((String) ((Map<?, ?>) body).get("state"));
        }
        if (resource.equals("snapshot")) {
            return snapshot(path, body);
        }
        if (Set.of("drives", "network-interfaces").contains(resource)) {
            if (id == null || id.isEmpty()) {
                return bad("The ID cannot be empty.");
            }
            if (!RESOURCE_ID.matcher(id).matches()) {
                return bad("API Resource IDs can only contain alphanumeric characters and underscores.");
            }
        }
        if (!Set.of("actions", "boot-source", "drives", "logger", "machine-config", "metrics",
                "network-interfaces", "vsock").contains(resource)) {
            if (options.spec().endpoint("PUT", path).isPresent()) {
                return bad("fake Firecracker does not implement PUT " + path);
            }
            return bad("Invalid request method and/or path: PUT " + resource + ".");
        }
        if (options.spec().bodyType("PUT", path).isEmpty()) {
            return bad("Invalid request method and/or path: PUT " + resource + ".");
        }
        String schemaProblem = schemaProblem(method, path, body);
        if (schemaProblem != null) {
            return bad(SERDE + schemaProblem + ".");
        }
        Map<?, ?> b = (Map<?, ?>) body;
        if (resource.equals("actions")) {
            return action((String) b.get("action_type"));
        }
        if (!state.equals("Not started")) {
            return bad(POST_BOOT);
        }
        if (!Set.of("logger", "metrics").contains(resource)) {
            // As Firecracker's pre-boot controller: set before the attempt, so even a refused one counts.
            bootPath = true;
        }
        return switch (resource) {
            case "logger" -> putLogger(b);
            case "metrics" -> putMetrics(b);
            case "machine-config" -> putMachineConfig(b);
            case "boot-source" -> putBootSource(b);
            case "drives" -> putDrive(id, b);
            case "network-interfaces" -> putNic(id, b);
            case "vsock" -> putVsock(b);
            default -> throw new IllegalStateException(resource);
        };
    }

    /**
     * The first problem of {@code body} against its endpoint's type, worded as serde would, or null. Range checks
     * and exactly-one-of choices are left out: Firecracker makes those after deserializing, in its own words.
     */
    private String schemaProblem(String method, String path, Object body) {
        String type = options.spec().bodyType(method, path).orElseThrow();
        List<FirecrackerApiSpec.Problem> problems = new ArrayList<>(options.spec().validate(body, type));
        problems.removeIf(p -> p.kind() == FirecrackerApiSpec.Problem.Kind.RANGE
                || p.kind() == FirecrackerApiSpec.Problem.Kind.CHOICE);
        return problems.isEmpty() ? null : problems.get(0).serde();
    }

    private List<FirecrackerApiSpec.Problem> ranges(String path, Object body) {
        String type = options.spec().bodyType("PUT", path).orElseThrow();
        List<FirecrackerApiSpec.Problem> problems = new ArrayList<>(options.spec().validate(body, type));
        problems.removeIf(p -> p.kind() != FirecrackerApiSpec.Problem.Kind.RANGE);
        return problems;
    }

    private Answer putLogger(Map<?, ?> b) {
        if (b.get("log_path") instanceof String logPath) {
            Path p = Path.of(logPath);
            if (!openOrCreate(p)) {
                return bad("Logger error: Failed to open target file: No such file or directory (os error 2)");
            }
            append(p, Instant.now() + " [" + options.instanceId() + ":main] Running Firecracker v" + VERSION + "\n");
        }
        return ok();
    }

    private Answer putMetrics(Map<?, ?> b) {
        if (metricsPath != null) {
            return bad("Metrics error: Reinitialization of metrics not allowed.");
        }
        Path p = Path.of((String) b.get("metrics_path"));
        if (!openOrCreate(p)) {
            return bad("Metrics error: Cannot initialize the metrics system due to: No such file or directory "
                    + "(os error 2)");
        }
        metricsPath = p;
        return ok();
    }

    /** As Firecracker opens its log and metrics files: created when missing, not truncated; false without a parent. */
    private static boolean openOrCreate(Path file) {
        try {
            if (!Files.exists(file)) {
                Files.createFile(file);
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private Answer putMachineConfig(Map<?, ?> b) {
        long vcpus = ((Number) b.get("vcpu_count")).longValue();
        boolean smt = Boolean.TRUE.equals(b.get("smt"));
        if (vcpus < 1 || vcpus > 32 || (smt && vcpus > 1 && vcpus % 2 == 1)) {
            return bad("Machine config error: The vCPU number is invalid! The vCPU number can only be 1 or an even "
                    + "number when SMT is enabled.");
        }
        if (((Number) b.get("mem_size_mib")).longValue() < 1) {
            return bad("Machine config error: The memory size (MiB) is invalid.");
        }
        List<FirecrackerApiSpec.Problem> ranges = ranges("/machine-config", b);
        if (!ranges.isEmpty()) {
            return bad("Machine config error: " + ranges.get(0).serde());
        }
        machineConfig = b;
        return ok();
    }

    private Answer putBootSource(Map<?, ?> b) {
        if (!Files.isReadable(Path.of((String) b.get("kernel_image_path")))) {
            return bad("Boot source error: The kernel file cannot be opened: No such file or directory (os error 2)");
        }
        if (b.get("initrd_path") instanceof String initrd && !Files.isReadable(Path.of(initrd))) {
            return bad("Boot source error: The initrd file cannot be opened due to invalid path or invalid "
                    + "permissions. No such file or directory (os error 2)");
        }
        if (b.get("boot_args") instanceof String args && args.getBytes(StandardCharsets.UTF_8).length >= CMDLINE_MAX) {
            return bad("Boot source error: The kernel command line is invalid: String too large");
        }
        bootSource = b;
        return ok();
    }

    private Answer putDrive(String id, Map<?, ?> b) {
        if (!id.equals(b.get("drive_id"))) {
            return bad("The id from the path does not match the id from the body!");
        }
        if (!(b.get("path_on_host") instanceof String hostPath)) {
            return bad("Drive config error: Unable to create the virtio block device: path_on_host is required "
                    + "for a virtio-block drive");
        }
        if (!Files.exists(Path.of(hostPath))) {
            return bad("Drive config error: Unable to create the virtio block device: Virtio backend error: "
                    + "Error manipulating the backing file: No such file or directory (os error 2) " + hostPath);
        }
        if (Boolean.TRUE.equals(b.get("is_root_device"))) {
            for (Map.Entry<String, Map<?, ?>> d : drives.entrySet()) {
                if (!d.getKey().equals(id) && Boolean.TRUE.equals(d.getValue().get("is_root_device"))) {
                    return bad("Drive config error: A root block device already exists!");
                }
            }
        }
        drives.put(id, b);
        return ok();
    }

    private Answer putNic(String id, Map<?, ?> b) {
        if (!id.equals(b.get("iface_id"))) {
            return bad("The id from the path does not match the id from the body!");
        }
        if (b.get("guest_mac") instanceof String mac && !MAC.matcher(mac).matches()) {
            return bad(SERDE + "invalid MAC address: " + mac + ".");
        }
        String tap = (String) b.get("host_dev_name");
        if (!tapExists(tap)) {
            return bad("Network config error: Could not create the network device: Open tap device failed: "
                    + "Error while creating ifreq structure: Invalid argument (os error 22). Invalid TUN/TAP "
                    + "Backend provided by " + tap + ". Check our documentation on setting up the network devices.");
        }
        nics.put(id, b);
        return ok();
    }

    private Answer putVsock(Map<?, ?> b) {
        List<FirecrackerApiSpec.Problem> ranges = ranges("/vsock", b);
        if (!ranges.isEmpty()) {
            return bad("Vsock config error: " + ranges.get(0).serde());
        }
        String problem = bindVsock(Path.of((String) b.get("uds_path")));
        if (problem != null) {
            return bad("Vsock config error: " + problem);
        }
        vsock = b;
        return ok();
    }

    /** Binds the vsock device's host socket (replacing an earlier one); the problem as Firecracker words it, or null. */
    private String bindVsock(Path uds) {
        try {
            if (vsockListener != null) {
                vsockListener.close();
                Files.deleteIfExists(Path.of((String) vsock.get("uds_path")));
            }
            ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                listener.bind(UnixDomainSocketAddress.of(uds));
            } catch (IOException e) {
                listener.close();
                return "Cannot create backend for vsock device: UnixBind(Os { code: 98, kind: AddrInUse, message: "
                        + "\"Address already in use\" })";
            }
            vsockListener = listener;
            closeables.add(listener);
            daemon("fake-firecracker-vsock", () -> acceptVsock(listener));
            return null;
        } catch (IOException e) {
            return e.getMessage();
        }
    }

    private Answer action(String type) {
        switch (type) {
            case "InstanceStart":
                if (!state.equals("Not started")) {
                    return bad(POST_BOOT);
                }
                if (bootSource == null) {
                    return bad("Start microvm error: Cannot start microvm without kernel configuration.");
                }
                if (!isElf(Path.of((String) bootSource.get("kernel_image_path")))) {
                    return bad("Start microvm error: Cannot load kernel due to invalid memory configuration or "
                            + "invalid kernel image: Kernel Loader: failed to load ELF kernel image");
                }
                state = "Running";
                console("booted " + bootSource.get("kernel_image_path") + " with " + bootSource.get("boot_args"));
                try {
                    bootGuest();
                } catch (IOException e) {
                    return bad("fake Firecracker: cannot start the guest model: " + e.getMessage());
                }
                return ok();
            case "SendCtrlAltDel":
                if (state.equals("Not started")) {
                    return bad(PRE_BOOT);
                }
                return new Answer(204, null, this::pressCtrlAltDel);
            case "FlushMetrics":
                if (state.equals("Not started")) {
                    return bad(PRE_BOOT);
                }
                if (metricsPath != null) {
                    append(metricsPath, "{\"utc_timestamp_ms\":" + System.currentTimeMillis() + "}\n");
                }
                return ok();
            default:
                throw new IllegalStateException(type);
        }
    }

    // ---- pause, resume and snapshots (caller holds lock) ----

    private Answer patchVm(String wanted) {
        if (state.equals("Not started")) {
            return bad(PRE_BOOT);
        }
        if (wanted.equals("Paused")) {
            state = "Paused";
            signalGuest("STOP");
        } else {
            state = "Running";
            signalGuest("CONT");
        }
        return ok();
    }

    private Answer snapshot(String path, Object body) {
        if (!path.equals("/snapshot/create") && !path.equals("/snapshot/load")) {
            return bad("Invalid request method and/or path: PUT " + path.substring(1) + ".");
        }
        String problem = schemaProblem("PUT", path, body);
        if (problem != null) {
            return bad(SERDE + problem + ".");
        }
        Map<?, ?> b = (Map<?, ?>) body;
        return path.equals("/snapshot/create") ? createSnapshot(b) : loadSnapshot(b);
    }

    /**
     * A full snapshot, as Firecracker writes it: the device state file (here a JSON description of what was
     * configured, which only this fake reads), then the memory file, {@code mem_size_mib} long (sparse here: the
     * pretend guest has no RAM to write). The vsock device is reset: the host ends of open connections close.
     */
    private Answer createSnapshot(Map<?, ?> b) {
        if (state.equals("Not started")) {
            return bad(PRE_BOOT);
        }
        if (!state.equals("Paused")) {
            return bad(CREATE_WHILE_RUNNING);
        }
        Path statePath = Path.of((String) b.get("snapshot_path"));
        Path memPath = Path.of((String) b.get("mem_file_path"));
        Map<String, Object> saved = new LinkedHashMap<>();
        saved.put("fake_firecracker_snapshot", VERSION);
        saved.put("machine_config", machineConfigOrDefault());
        saved.put("boot_source", bootSource);
        saved.put("drives", new ArrayList<>(drives.values()));
        saved.put("network_interfaces", new ArrayList<>(nics.values()));
        saved.put("vsock", vsock);
        try {
            Files.writeString(statePath, Json.write(saved), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return bad("Create snapshot error: Cannot perform open on the snapshot backing file: " + osError(e));
        }
        long bytes = ((Number) machineConfigOrDefault().get("mem_size_mib")).longValue() << 20;
        try (java.io.RandomAccessFile mem = new java.io.RandomAccessFile(memPath.toFile(), "rw")) {
            mem.setLength(0);
            mem.setLength(bytes);
            mem.write(("fake guest memory of " + options.instanceId() + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            return bad("Create snapshot error: Cannot perform open on the memory backing file: " + osError(e));
        }
        resetVsock();
        return ok();
    }

    /**
     * {@code /snapshot/load} as Firecracker's pre-boot controller handles it: refused after start and after any
     * boot-specific configuration; then the snapshot file is read, the overrides applied, the memory file opened
     * (read-only: a restored guest's writes stay in its own copy) and the devices rebuilt from the snapshot
     * (drives opened by their recorded paths, relative to this process's working directory; the tap opened; the
     * vsock socket bound). A failure from the snapshot file on is fatal: Firecracker answers and then exits.
     */
    private Answer loadSnapshot(Map<?, ?> b) {
        if (!state.equals("Not started")) {
            return bad(POST_BOOT);
        }
        boolean backend = b.get("mem_backend") != null;
        boolean file = b.get("mem_file_path") != null;
        if (backend == file) {
            return bad(SERDE + (backend ? LOAD_TOO_MANY_FIELDS : LOAD_MISSING_FIELD) + ".");
        }
        if (bootPath) {
            return bad("Load snapshot error: Loading a microVM snapshot not allowed after configuring "
                    + "boot-specific resources.");
        }
        Map<?, ?> saved;
        try {
            String text = Files.readString(Path.of((String) b.get("snapshot_path")), StandardCharsets.UTF_8);
            Object tree = Json.parseTree(text);
            if (!(tree instanceof Map<?, ?> m) || !VERSION.equals(m.get("fake_firecracker_snapshot"))) {
                return fatal(RESTORE + "Failed to get snapshot state from file: Failed to load snapshot state from "
                        + "file: not a snapshot this fake Firecracker wrote");
            }
            saved = m;
        } catch (IOException e) {
            return fatal(RESTORE + "Failed to get snapshot state from file: Failed to open snapshot file: "
                    + osError(e));
        } catch (JsonException e) {
            return fatal(RESTORE + "Failed to get snapshot state from file: Failed to load snapshot state from "
                    + "file: " + e.getMessage());
        }
        Map<String, Map<String, Object>> savedNics = new LinkedHashMap<>();
        for (Object nic : (List<?>) saved.get("network_interfaces")) {
            Map<String, Object> copy = new LinkedHashMap<>();
            ((Map<?, ?>) nic).forEach((k, v) -> copy.put((String) k, v));
            savedNics.put((String) copy.get("iface_id"), copy);
        }
        if (b.get("network_overrides") instanceof List<?> overrides) {
            for (Object o : overrides) {
                Map<?, ?> override = (Map<?, ?>) o;
                Map<String, Object> nic = savedNics.get((String) override.get("iface_id"));
                if (nic == null) {
                    return fatal(RESTORE + "Failed to get snapshot state from file: Unknown Network Device.");
                }
                nic.put("host_dev_name", override.get("host_dev_name"));
            }
        }
        Map<String, Object> savedVsock = null;
        if (saved.get("vsock") instanceof Map<?, ?> v) {
            savedVsock = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : v.entrySet()) {
                savedVsock.put((String) e.getKey(), e.getValue());
            }
        }
        if (b.get("vsock_override") instanceof Map<?, ?> override) {
            if (savedVsock == null) {
                return fatal(RESTORE + "Failed to get snapshot state from file: Unknown Vsock Device.");
            }
            savedVsock.put("uds_path", override.get("uds_path"));
        }
        Map<?, ?> memory = b.get("mem_backend") instanceof Map<?, ?> m ? m
                : Map.of("backend_type", "File", "backend_path", b.get("mem_file_path"));
        if (!"File".equals(memory.get("backend_type"))) {
            return fatal("fake Firecracker does not implement the Uffd memory backend");
        }
        try (java.nio.channels.FileChannel mem = java.nio.channels.FileChannel.open(
                Path.of((String) memory.get("backend_path")), StandardOpenOption.READ)) {
            mem.size();
        } catch (IOException e) {
            return fatal(RESTORE + "Failed to load guest memory: Error creating guest memory from file: Failed to "
                    + "load guest memory: " + osError(e));
        }
        for (Object d : (List<?>) saved.get("drives")) {
            String hostPath = (String) ((Map<?, ?>) d).get("path_on_host");
            if (!Files.exists(Path.of(hostPath))) {
                return fatal(DEVICES + "Block: Virtio backend error: Error manipulating the backing file: No such "
                        + "file or directory (os error 2) " + hostPath);
            }
        }
        for (Map<String, Object> nic : savedNics.values()) {
            String tap = (String) nic.get("host_dev_name");
            if (!tapExists(tap)) {
                return fatal(DEVICES + "Net: Failed to create a network device: Open tap device failed: Error "
                        + "while creating ifreq structure: Invalid argument (os error 22). Invalid TUN/TAP Backend "
                        + "provided by " + tap + ".");
            }
        }
        if (savedVsock != null) {
            String problem = bindVsock(Path.of((String) savedVsock.get("uds_path")));
            if (problem != null) {
                return fatal(DEVICES + "VsockUnixBackend: " + problem);
            }
        }
        machineConfig = (Map<?, ?>) saved.get("machine_config");
        bootSource = (Map<?, ?>) saved.get("boot_source");
        for (Object d : (List<?>) saved.get("drives")) {
            drives.put((String) ((Map<?, ?>) d).get("drive_id"), (Map<?, ?>) d);
        }
        nics.putAll(savedNics);
        vsock = savedVsock;
        state = "Paused";
        console("restored from " + b.get("snapshot_path") + " with " + bootArgs());
        if (Boolean.TRUE.equals(b.get("resume_vm"))) {
            state = "Running";
            try {
                // The restored guest runs on from the capture point: its agent (already listening then) accepts
                // new connections; whatever was connected at capture was reset.
                bootGuest();
            } catch (IOException e) {
                return fatal("Load snapshot error: Failed to resume microVM: fake Firecracker cannot start the guest "
                        + "model: " + e.getMessage());
            }
        }
        return ok();
    }

    /** Whether {@code tap} is one the test declared: by name, or by a prefix declared as {@code prefix*}. */
    private boolean tapExists(String tap) {
        return tap != null && options.taps().stream().anyMatch(t -> t.endsWith("*")
                ? tap.startsWith(t.substring(0, t.length() - 1)) : t.equals(tap));
    }

    /** A 400 after which the process exits, as Firecracker does when a snapshot load fails half-way. */
    private Answer fatal(String message) {
        return new Answer(400, fault(message), () -> {
            System.err.println("Error: RunWithApi(BuildMicroVmError(Restore))");
            if (options.onExit() != null) {
                options.onExit().accept(1);
            }
            close();
        });
    }

    /** Closes the host ends of the proxied vsock connections (Firecracker's vsock transport reset). */
    private void resetVsock() {
        for (SocketChannel c : vsockConnections) {
            closeQuietly(c);
        }
    }

    /** Stops or continues the guest model's processes, as pausing the vCPUs would. */
    private void signalGuest(String signal) {
        Process p = guest;
        if (p == null || guestState != GuestState.RUNNING) {
            return;
        }
        List<String> argv = new ArrayList<>(List.of("kill", "-s", signal, Long.toString(p.pid())));
        p.descendants().forEach(d -> argv.add(Long.toString(d.pid())));
        try {
            new ProcessBuilder(argv).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        } catch (IOException | InterruptedException e) {
            console("fake Firecracker: cannot " + signal + " the guest: " + e);
        }
    }

    /** "No such file or directory (os error 2)" and the like, as Rust prints an io::Error. */
    private static String osError(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "No such file or directory (os error 2)";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "Permission denied (os error 13)";
        }
        return e.getMessage();
    }

    // ---- the guest (caller of bootGuest holds lock) ----

    private String bootArgs() {
        return bootSource.get("boot_args") instanceof String a ? a : "";
    }

    /** Whether the boot args carry {@code key} (alone or as {@code key=value}) before any "--". */
    private boolean hasParam(String key) {
        for (String t : BootArgs.split(bootArgs())) {
            if (t.equals("--")) {
                return false;
            }
            if (BootArgs.key(t).equals(key)) {
                return true;
            }
        }
        return false;
    }

    private Path agentSocket() {
        return options.guestDir().resolve("agent.sock");
    }

    private void bootGuest() throws IOException {
        if (options.guestBinary() == null) {
            return;
        }
        Path root = options.guestDir();
        Files.createDirectories(root.resolve("proc"));
        Files.writeString(root.resolve("proc/cmdline"), bootArgs() + "\n");
        Files.createDirectories(root.resolve("sys/firmware/acpi"));
        Files.deleteIfExists(agentSocket());
        Process p = new ProcessBuilder(options.guestBinary().toString(), "agent", "--listen", "unix:" + agentSocket(),
                "--guest-root", root.toString())
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        guest = p;
        guestState = GuestState.RUNNING;
        daemon("fake-firecracker-guest", () -> runGuest(p));
    }

    /** The guest's console: its lines go to Firecracker's stdout; when it ends, the machine does what it chose. */
    private void runGuest(Process p) {
        String end = null;
        try (java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(
                p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                console("guest: " + line);
                if (line.startsWith("machine: ")) {
                    end = line.substring("machine: ".length());
                }
            }
            p.waitFor();
        } catch (IOException | InterruptedException e) {
            return;
        }
        if (closed) {
            return;
        }
        if ("power-off".equals(end)) {
            // x86 Firecracker has no ACPI power management: the guest halts and the process stays.
            guestState = GuestState.HALTED;
            console("reboot: System halted");
            return;
        }
        if (end == null) {
            console("Kernel panic - not syncing: Attempted to kill init! exitcode=" + p.exitValue());
            if (!panicReboots()) {
                guestState = GuestState.HALTED;
                return;
            }
        }
        guestState = GuestState.REBOOTED;
        console("reboot: Restarting system");
        // Firecracker sees the keyboard controller's reset and exits.
        if (options.onExit() != null) {
            options.onExit().accept(0);
        }
        close();
    }

    /** {@code panic=N} with N != 0 reboots after a panic; without it (the kernel default 0) the guest hangs. */
    private boolean panicReboots() {
        String value = null;
        synchronized (lock) {
            for (String t : BootArgs.split(bootArgs())) {
                if (t.equals("--")) {
                    break;
                }
                if (BootArgs.key(t).equals("panic")) {
                    value = t.substring("panic=".length());
                }
            }
        }
        return value != null && !value.strip().equals("0");
    }

    /** Ctrl-Alt-Del on the emulated i8042, as a guest kernel would see it. */
    private void pressCtrlAltDel() {
        boolean nopnp;
        synchronized (lock) {
            nopnp = hasParam("i8042.nopnp");
        }
        Process p = guest;
        if (nopnp || p == null || guestState != GuestState.RUNNING) {
            // An ACPI kernel told i8042.nopnp skips the keyboard ACPI describes; a halted guest runs nothing.
            return;
        }
        try {
            new ProcessBuilder("kill", "-s", "INT", Long.toString(p.pid()))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start().waitFor();
        } catch (IOException | InterruptedException e) {
            console("fake Firecracker: cannot signal the guest: " + e);
        }
    }

    GuestState guestState() {
        return guestState;
    }

    private void console(String line) {
        PrintStream console = options.console();
        if (console != null) {
            synchronized (console) {
                console.println("fake Firecracker guest console: " + line);
                console.flush();
            }
        }
    }

    private Map<String, Object> instanceInfo() {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("id", options.instanceId());
        info.put("state", state);
        info.put("vmm_version", VERSION);
        info.put("app_name", "Firecracker");
        return info;
    }

    private Map<String, Object> machineConfigOrDefault() {
        Map<String, Object> mc = new LinkedHashMap<>();
        mc.put("vcpu_count", machineConfig == null ? 1L : machineConfig.get("vcpu_count"));
        mc.put("mem_size_mib", machineConfig == null ? 128L : machineConfig.get("mem_size_mib"));
        mc.put("smt", machineConfig != null && Boolean.TRUE.equals(machineConfig.get("smt")));
        mc.put("track_dirty_pages", false);
        mc.put("huge_pages", "None");
        return mc;
    }

    private static boolean isElf(Path kernel) {
        try (InputStream in = Files.newInputStream(kernel)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
        } catch (IOException e) {
            return false;
        }
    }

    private static Answer ok() {
        return new Answer(204, null);
    }

    private static Answer bad(String message) {
        return new Answer(400, fault(message));
    }

    // ---- vsock ----

    private void acceptVsock(ServerSocketChannel listener) {
        while (!closed && listener.isOpen()) {
            SocketChannel c;
            try {
                c = listener.accept();
            } catch (IOException e) {
                return;
            }
            closeables.add(c);
            daemon("fake-firecracker-vsock-conn", () -> vsockConnection(c));
        }
    }

    private void vsockConnection(SocketChannel host) {
        SocketChannel guest = null;
        try {
            String line = connectLine(host);
            boolean running;
            synchronized (lock) {
                running = state.equals("Running");
            }
            if (!running || line == null || !line.equals("CONNECT " + AGENT_PORT)
                    || guestState != GuestState.RUNNING) {
                host.close();
                return;
            }
            guest = SocketChannel.open(StandardProtocolFamily.UNIX);
            guest.connect(UnixDomainSocketAddress.of(agentSocket()));
            closeables.add(guest);
            vsockConnections.add(host);
            ByteBuffer ok = ByteBuffer.wrap(("OK " + nextHostPort.getAndIncrement() + "\n")
                    .getBytes(StandardCharsets.US_ASCII));
            while (ok.hasRemaining()) {
                host.write(ok);
            }
            SocketChannel g = guest;
            Thread up = daemon("fake-firecracker-vsock-up", () -> pump(host, g));
            pump(g, host);
            up.join();
        } catch (IOException | InterruptedException e) {
            // either side went away
        } finally {
            vsockConnections.remove(host);
            closeQuietly(host);
            closeQuietly(guest);
        }
    }

    /** The "CONNECT <port>" line, read a byte at a time so nothing after it is consumed; null if cut short. */
    private static String connectLine(SocketChannel host) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 64) {
            one.clear();
            if (host.read(one) < 0) {
                return null;
            }
            char c = (char) (one.get(0) & 0xff);
            if (c == '\n') {
                return sb.toString();
            }
            sb.append(c);
        }
        return null;
    }

    /** Copies until {@code from} ends, then half-closes {@code to}. Reads and writes the channels directly. */
    private static void pump(SocketChannel from, SocketChannel to) {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        try {
            while (from.read(buf) >= 0) {
                buf.flip();
                while (buf.hasRemaining()) {
                    to.write(buf);
                }
                buf.clear();
            }
            to.shutdownOutput();
        } catch (IOException e) {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    // ---- plumbing ----

    private void record(Recorded r) {
        if (options.recordFile() == null) {
            return;
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("method", r.method());
        line.put("path", r.path());
        line.put("body", r.body());
        line.put("status", r.status());
        line.put("fault", r.fault());
        append(options.recordFile(), Json.write(line) + "\n");
    }

    private static void append(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // closing anyway
        }
    }

    /** Stops serving; the socket files stay behind, as Firecracker leaves them. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(api);
        closeables.forEach(FakeFirecracker::closeQuietly);
        Process p = guest;
        if (p != null) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    /** Reads CRLF- or LF-terminated lines and exact byte counts from a blocking channel, without stream wrappers. */
    private static final class HttpIn {
        private final SocketChannel channel;
        private final ByteBuffer buf = ByteBuffer.allocate(8192);

        HttpIn(SocketChannel channel) {
            this.channel = channel;
            buf.flip();
        }

        /** The next line without its terminator, or null at end of stream before any byte. */
        String line() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            while (true) {
                if (!buf.hasRemaining()) {
                    buf.clear();
                    int n = channel.read(buf);
                    buf.flip();
                    if (n < 0) {
                        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
                    }
                    continue;
                }
                byte b = buf.get();
                if (b == '\n') {
                    String s = line.toString(StandardCharsets.ISO_8859_1);
                    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
                }
                if (line.size() > 64 * 1024) {
                    throw new IOException("line too long");
                }
                line.write(b);
            }
        }

        byte[] exactly(int n) throws IOException {
            byte[] out = new byte[n];
            int filled = 0;
            while (filled < n) {
                if (!buf.hasRemaining()) {
                    buf.clear();
                    int r = channel.read(buf);
                    buf.flip();
                    if (r < 0) {
                        throw new IOException("connection closed in the body");
                    }
                    continue;
                }
                int take = Math.min(n - filled, buf.remaining());
                buf.get(out, filled, take);
                filled += take;
            }
            return out;
        }
    }
}
