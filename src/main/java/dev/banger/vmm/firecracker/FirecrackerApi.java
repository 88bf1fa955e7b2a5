package dev.banger.vmm.firecracker;

import dev.banger.json.Json;
import dev.banger.json.JsonException;
import dev.banger.vmm.VmmException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Typed calls to Firecracker's HTTP API on its Unix socket (swagger {@code firecracker.yaml}). Request bodies
 * are records whose component names are the swagger's field names; null components are left out of the JSON, so
 * optional fields take Firecracker's defaults. Each call opens its own connection. A non-2xx answer is a
 * {@link FirecrackerApiException} carrying Firecracker's {@code fault_message}; an unreachable socket, a timeout
 * or an answer that is not HTTP is a {@link VmmException} naming the socket.
 */
public final class FirecrackerApi {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    /** Firecracker's rule for ids in a path ({@code /drives/{drive_id}}): letters, digits and underscores. */
    private static final Pattern RESOURCE_ID = Pattern.compile("[A-Za-z0-9_]+");

    private final UnixHttpClient http;
    private final Duration timeout;

    public FirecrackerApi(Path socket) {
        this(socket, DEFAULT_TIMEOUT);
    }

    public FirecrackerApi(Path socket, Duration timeout) {
        this.http = new UnixHttpClient(Objects.requireNonNull(socket, "socket"));
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    public Path socket() {
        return http.socket();
    }

    /** {@code GET /}: the instance's id, state ("Not started", "Running", "Paused") and version. */
    public InstanceInfo describeInstance() {
        HttpResponse r = execute("GET", "/", null);
        Object tree;
        try {
            tree = Json.parseTree(r.bodyText());
        } catch (JsonException e) {
            throw new VmmException("Firecracker's GET / on " + socket() + " answered something that is not JSON: "
                    + abbreviate(r.bodyText()));
        }
        if (!(tree instanceof Map<?, ?> map) || !(map.get("state") instanceof String state)) {
            throw new VmmException("Firecracker's GET / on " + socket() + " answered no instance state: "
                    + abbreviate(r.bodyText()));
        }
        // Read field by field: a newer Firecracker may add fields, which must not make banger fail.
        return new InstanceInfo(text(map, "app_name"), text(map, "id"), state, text(map, "vmm_version"));
    }

    /** {@code PUT /logger}. Firecracker creates the log file when missing (its directory must exist). */
    public void putLogger(Logger logger) {
        put("/logger", logger);
    }

    /**
     * {@code PUT /metrics}. Firecracker creates the metrics file when missing (its directory must exist); metrics
     * can be configured once per process.
     */
    public void putMetrics(Metrics metrics) {
        put("/metrics", metrics);
    }

    /** {@code PUT /machine-config}; pre-boot only. */
    public void putMachineConfig(MachineConfiguration config) {
        put("/machine-config", config);
    }

    /** {@code PUT /boot-source}; pre-boot only. */
    public void putBootSource(BootSource bootSource) {
        put("/boot-source", bootSource);
    }

    /** {@code PUT /drives/{drive_id}}; pre-boot only. Non-root drives appear in the guest in the order added. */
    public void putDrive(Drive drive) {
        put("/drives/" + resourceId("drive_id", drive.drive_id()), drive);
    }

    /** {@code PUT /network-interfaces/{iface_id}}; pre-boot only. */
    public void putNetworkInterface(NetworkInterface nic) {
        put("/network-interfaces/" + resourceId("iface_id", nic.iface_id()), nic);
    }

    /** {@code PUT /vsock}; pre-boot only. Firecracker binds {@code uds_path} right away, so it must not exist. */
    public void putVsock(Vsock vsock) {
        put("/vsock", vsock);
    }

    /** {@code PUT /actions InstanceStart}: boots the guest; accepted once. */
    public void instanceStart() {
        put("/actions", new InstanceActionInfo(InstanceActionInfo.INSTANCE_START));
    }

    /** {@code PUT /actions SendCtrlAltDel}: presses Ctrl-Alt-Del on the guest's i8042 keyboard; after boot only. */
    public void sendCtrlAltDel() {
        put("/actions", new InstanceActionInfo(InstanceActionInfo.SEND_CTRL_ALT_DEL));
    }

    /**
     * {@code PATCH /vm {"state":"Paused"}}: stops the vCPUs; after boot only. Pausing a paused VM is accepted and
     * changes nothing.
     */
    public void pause() {
        execute("PATCH", "/vm", new Vm(Vm.PAUSED));
    }

    /** {@code PATCH /vm {"state":"Resumed"}}: runs the vCPUs again; after boot only. */
    public void resume() {
        execute("PATCH", "/vm", new Vm(Vm.RESUMED));
    }

    /**
     * {@code PUT /snapshot/create}: writes the device state and (for a full snapshot) all guest memory; the VM must
     * be paused. Both files are created or truncated; their directory must exist. The guest's vsock connections are
     * reset (closed when it runs again).
     */
    public void createSnapshot(SnapshotCreateParams params) {
        put("/snapshot/create", params);
    }

    /**
     * {@code PUT /snapshot/load}: only on a fresh process, before anything but the logger and metrics is configured.
     * A load that fails after reading the snapshot ends the Firecracker process (it may be half built).
     */
    public void loadSnapshot(SnapshotLoadParams params) {
        put("/snapshot/load", params);
    }

    private void put(String path, Object body) {
        execute("PUT", path, Objects.requireNonNull(body, "body"));
    }

    private HttpResponse execute(String method, String path, Object body) {
        HttpResponse r;
        try {
            r = http.send(method, path, body == null ? null : Json.writeBytes(body), timeout);
        } catch (IOException e) {
            throw new VmmException("cannot reach Firecracker's API socket: " + e.getMessage(), e);
        }
        if (!r.successful()) {
            throw new FirecrackerApiException(method, path, r.status(), faultMessage(r));
        }
        return r;
    }

    private static String faultMessage(HttpResponse r) {
        String body = r.bodyText();
        try {
            if (Json.parseTree(body) instanceof Map<?, ?> map && map.get("fault_message") instanceof String fault) {
                return fault;
            }
        } catch (JsonException ignored) {
            // Not Firecracker's error object: report the body as it came.
        }
        String raw = body.strip();
        return raw.isEmpty() ? "(no fault message; status " + r.status() + " " + r.reason() + ")" : abbreviate(raw);
    }

    private static String resourceId(String field, String id) {
        if (id == null || !RESOURCE_ID.matcher(id).matches()) {
            throw new IllegalArgumentException(field + " must be letters, digits and underscores, got \"" + id + "\"");
        }
        return id;
    }

    private static String text(Map<?, ?> map, String key) {
        return map.get(key) instanceof String s ? s : "";
    }

    private static String abbreviate(String s) {
        return s.length() <= 300 ? s : s.substring(0, 300) + "...";
    }

    // ---- bodies: swagger definitions, field for field (snake_case as on the wire) ----

    /**
     * Swagger {@code MachineConfiguration}.
     *
     * @param vcpu_count 1 to 32
     * @param mem_size_mib guest memory in MiB
     * @param smt simultaneous multithreading, or null for Firecracker's default (off)
     */
    public record MachineConfiguration(int vcpu_count, long mem_size_mib, Boolean smt) {
    }

    /**
     * Swagger {@code BootSource}.
     *
     * @param kernel_image_path an uncompressed ELF vmlinux (x86_64)
     * @param initrd_path an initramfs, or null
     * @param boot_args the kernel command line, or null for Firecracker's default
     */
    public record BootSource(String kernel_image_path, String initrd_path, String boot_args) {
        public BootSource {
            Objects.requireNonNull(kernel_image_path, "kernel_image_path");
        }
    }

    /**
     * Swagger {@code Drive}, virtio-block flavour.
     *
     * @param drive_id the id, also the path segment
     * @param path_on_host a raw image file or block device
     * @param is_root_device true makes Firecracker put this drive first and add {@code root=/dev/vda} to the
     *     command line
     * @param is_read_only attach read-only
     */
    public record Drive(String drive_id, String path_on_host, boolean is_root_device, boolean is_read_only) {
        public Drive {
            Objects.requireNonNull(drive_id, "drive_id");
            Objects.requireNonNull(path_on_host, "path_on_host");
        }
    }

    /**
     * Swagger {@code NetworkInterface}.
     *
     * @param iface_id the id, also the path segment
     * @param host_dev_name an existing tap device
     * @param guest_mac the guest's MAC address, or null for a random one
     */
    public record NetworkInterface(String iface_id, String host_dev_name, String guest_mac) {
        public NetworkInterface {
            Objects.requireNonNull(iface_id, "iface_id");
            Objects.requireNonNull(host_dev_name, "host_dev_name");
        }
    }

    /**
     * Swagger {@code Vsock}.
     *
     * @param guest_cid the guest's context id, at least 3
     * @param uds_path the host-side Unix socket Firecracker listens on for host-initiated connections
     */
    public record Vsock(long guest_cid, String uds_path) {
        public Vsock {
            Objects.requireNonNull(uds_path, "uds_path");
        }
    }

    /**
     * Swagger {@code Logger}.
     *
     * @param log_path an existing file or named pipe
     * @param level Error, Warning, Info, Debug, Trace or Off; null for Firecracker's default
     * @param show_level prefix lines with the level, or null for the default
     * @param show_log_origin prefix lines with the source file and line, or null for the default
     */
    public record Logger(String log_path, String level, Boolean show_level, Boolean show_log_origin) {
    }

    /**
     * Swagger {@code Metrics}.
     *
     * @param metrics_path an existing file or named pipe; Firecracker appends one JSON object per line
     */
    public record Metrics(String metrics_path) {
        public Metrics {
            Objects.requireNonNull(metrics_path, "metrics_path");
        }
    }

    /** Swagger {@code InstanceActionInfo}. */
    public record InstanceActionInfo(String action_type) {
        public static final String INSTANCE_START = "InstanceStart";
        public static final String SEND_CTRL_ALT_DEL = "SendCtrlAltDel";
        public static final String FLUSH_METRICS = "FlushMetrics";
    }

    /** Swagger {@code Vm}: the state {@code PATCH /vm} sets. */
    public record Vm(String state) {
        public static final String PAUSED = "Paused";
        public static final String RESUMED = "Resumed";

        public Vm {
            Objects.requireNonNull(state, "state");
        }
    }

    /**
     * Swagger {@code SnapshotCreateParams}.
     *
     * @param snapshot_type "Full" or "Diff" (developer preview); null for Firecracker's default, Full
     * @param snapshot_path where the device state goes
     * @param mem_file_path where the guest memory goes
     */
    public record SnapshotCreateParams(String snapshot_type, String snapshot_path, String mem_file_path) {
        public static final String FULL = "Full";

        public SnapshotCreateParams {
            Objects.requireNonNull(snapshot_path, "snapshot_path");
            Objects.requireNonNull(mem_file_path, "mem_file_path");
        }
    }

    /**
     * Swagger {@code SnapshotLoadParams}, as banger sends it: the memory through {@code mem_backend} (the older
     * {@code mem_file_path} is deprecated, and the two are mutually exclusive), no dirty-page tracking.
     *
     * @param snapshot_path the device state written by {@code /snapshot/create}
     * @param mem_backend where the guest memory comes from
     * @param resume_vm run the guest once loaded (else it stays paused); null for Firecracker's default, false
     * @param network_overrides the tap each captured network interface uses now, or null to keep the captured ones
     * @param vsock_override the vsock Unix socket to listen on now, or null to keep the captured one
     */
    public record SnapshotLoadParams(String snapshot_path, MemoryBackend mem_backend, Boolean resume_vm,
                                     List<NetworkOverride> network_overrides,
                                     VsockOverride vsock_override) {
        public SnapshotLoadParams {
            Objects.requireNonNull(snapshot_path, "snapshot_path");
            Objects.requireNonNull(mem_backend, "mem_backend");
            network_overrides = network_overrides == null ? null : List.copyOf(network_overrides);
        }
    }

    /**
     * Swagger {@code MemoryBackend}.
     *
     * @param backend_type "File" (Firecracker maps the file privately, copy-on-write) or "Uffd"
     * @param backend_path the memory file, or the page-fault handler's socket for Uffd
     */
    public record MemoryBackend(String backend_type, String backend_path) {
        public static final String FILE = "File";

        public MemoryBackend {
            Objects.requireNonNull(backend_type, "backend_type");
            Objects.requireNonNull(backend_path, "backend_path");
        }
    }

    /** Swagger {@code NetworkOverride}: the captured interface {@code iface_id} uses tap {@code host_dev_name}. */
    public record NetworkOverride(String iface_id, String host_dev_name) {
        public NetworkOverride {
            Objects.requireNonNull(iface_id, "iface_id");
            Objects.requireNonNull(host_dev_name, "host_dev_name");
        }
    }

    /** Swagger {@code VsockOverride}: the Unix socket the restored vsock device listens on. */
    public record VsockOverride(String uds_path) {
        public VsockOverride {
            Objects.requireNonNull(uds_path, "uds_path");
        }
    }

    /** Swagger {@code InstanceInfo}: what {@code GET /} answers. */
    public record InstanceInfo(String app_name, String id, String state, String vmm_version) {
        public static final String NOT_STARTED = "Not started";
        public static final String RUNNING = "Running";
        public static final String PAUSED = "Paused";

        public boolean running() {
            return RUNNING.equals(state);
        }
    }
}
