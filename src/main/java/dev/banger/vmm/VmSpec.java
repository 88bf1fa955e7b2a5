package dev.banger.vmm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a VMM driver needs to boot one VM. Paths are absolute (QEMU changes directory to / when it
 * daemonizes); {@link #validate()} checks them and the sizes before anything is started.
 *
 * @param id the VM's stable id
 * @param name the VM's name, for messages and the VMM's process name
 * @param vcpus virtual CPUs, at least 1
 * @param memoryMib guest memory, at least {@link #MIN_MEMORY_MIB}
 * @param kernel kernel image
 * @param initrd initramfs, or null for none
 * @param kernelCmdline kernel command line (drivers may append what their VMM needs, e.g. {@code tsc_early_khz})
 * @param disks block devices in attach order
 * @param agentSocket host side of the guest agent channel: QEMU's virtio-serial chardev socket, or Firecracker's
 *     hybrid vsock Unix socket
 * @param controlSocket QEMU's QMP socket, or Firecracker's API socket
 * @param consoleLog file receiving the serial console
 * @param vmDir the VM's directory, for the VMM's pid file and its own log
 * @param guestCid vsock context id for Firecracker (at least 3); ignored by QEMU, which has no vhost-vsock here
 * @param network the VM's network device, if any
 */
public record VmSpec(String id, String name, int vcpus, int memoryMib, Path kernel, Path initrd,
                     String kernelCmdline, List<DiskSpec> disks, Path agentSocket, Path controlSocket,
                     Path consoleLog, Path vmDir, long guestCid, Optional<NetworkSpec> network) {

    public static final int MIN_MEMORY_MIB = 64;
    public static final int MAX_VCPUS = 64;

    public VmSpec {
        disks = List.copyOf(disks);
        network = Objects.requireNonNullElse(network, Optional.empty());
    }

    /** Throws {@link InvalidVmSpecException} listing every problem; returns this spec when it can be launched. */
    public VmSpec validate() {
        List<String> problems = new ArrayList<>();
        if (id == null || id.isBlank()) {
            problems.add("id is missing");
        }
        if (name == null || name.isBlank()) {
            problems.add("name is missing");
        }
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            problems.add("cpus must be between 1 and " + MAX_VCPUS + ", got " + vcpus);
        }
        if (memoryMib < MIN_MEMORY_MIB) {
            problems.add("memory must be at least " + MIN_MEMORY_MIB + " MiB, got " + memoryMib + " MiB");
        }
        requireFile(problems, "kernel", kernel);
        if (initrd != null) {
            requireFile(problems, "initrd", initrd);
        }
        if (kernelCmdline == null) {
            problems.add("kernel command line is missing");
        }
        for (DiskSpec disk : disks) {
            requireFile(problems, "disk", disk.path());
        }
        if (disks.stream().filter(d -> d.role() == DiskSpec.Role.ROOT).count() > 1) {
            problems.add("more than one root disk");
        }
        requireSocket(problems, "agent socket", agentSocket);
        requireSocket(problems, "control socket", controlSocket);
        if (agentSocket != null && agentSocket.equals(controlSocket)) {
            problems.add("agent and control sockets are the same file " + agentSocket);
        }
        if (consoleLog == null) {
            problems.add("console log path is missing");
        } else if (!Files.isDirectory(consoleLog.toAbsolutePath().getParent())) {
            problems.add("console log directory " + consoleLog.toAbsolutePath().getParent() + " does not exist");
        }
        if (vmDir == null || !Files.isDirectory(vmDir)) {
            problems.add("VM directory " + vmDir + " does not exist");
        }
        network.ifPresent(net -> {
            if (!NetworkSpec.TAP.matcher(net.tapName()).matches()) {
                problems.add("tap name must be 1-15 characters of [A-Za-z0-9_.-], got \"" + net.tapName() + "\"");
            }
            if (!NetworkSpec.MAC.matcher(net.mac()).matches()) {
                problems.add("MAC address must look like 02:00:00:00:00:01, got \"" + net.mac() + "\"");
            }
        });
        if (!problems.isEmpty()) {
            throw new InvalidVmSpecException(name == null || name.isBlank() ? String.valueOf(id) : name, problems);
        }
        return this;
    }

    private static void requireFile(List<String> problems, String what, Path path) {
        if (path == null) {
            problems.add(what + " path is missing");
        } else if (!Files.isRegularFile(path)) {
            problems.add(what + " file " + path + " does not exist");
        } else if (!Files.isReadable(path)) {
            problems.add(what + " file " + path + " is not readable");
        }
    }

    private static void requireSocket(List<String> problems, String what, Path path) {
        if (path == null) {
            problems.add(what + " path is missing");
            return;
        }
        String tooLong = UnixSocketPaths.problem(what, path);
        if (tooLong != null) {
            problems.add(tooLong);
        }
        if (!Files.isDirectory(path.toAbsolutePath().getParent())) {
            problems.add(what + " directory " + path.toAbsolutePath().getParent() + " does not exist");
        }
    }
}
