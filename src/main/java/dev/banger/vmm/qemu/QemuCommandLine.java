package dev.banger.vmm.qemu;

import dev.banger.vmm.DiskSpec;
import dev.banger.vmm.VmSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.function.Predicate;

/**
 * The QEMU argv for a {@link VmSpec}: {@code -M microvm} with virtio-mmio devices, no default devices, serial
 * console to a file, the agent on a virtio-serial port named {@code banger.agent}, QMP on a Unix socket (and a
 * second QMP monitor beside it that {@link QmpEvents} keeps open for events), and
 * {@code -daemonize} so QEMU leaves the daemon's session; {@code -D} keeps its later stderr in the VM directory.
 * ({@code -display none} replaces {@code -nographic}, which QEMU refuses together with {@code -daemonize}.)
 */
final class QemuCommandLine {

    static final String BINARY = "qemu-system-x86_64";
    static final String AGENT_PORT_NAME = "banger.agent";

    private QemuCommandLine() {
    }

    static List<String> build(VmSpec spec, Accelerator accelerator, OptionalLong tscKhz) {
        return build(spec, accelerator, tscKhz, GuestRam.ANONYMOUS);
    }

    static List<String> build(VmSpec spec, Accelerator accelerator, OptionalLong tscKhz, GuestRam ram) {
        return build(spec, accelerator, tscKhz, ram, file -> false);
    }

    /**
     * The argv for {@code spec} with its RAM as {@code ram} says: for a file, the machine's memory is a
     * {@code memory-backend-file} object ({@code share=on} while a template boots, {@code share=off} for a
     * copy-on-write restore, which also waits for its device state with {@code -incoming defer}). Everything else
     * is the same for a template and its clones, as a restore requires.
     *
     * <p>The VM's work disk bypasses the host's page cache ({@code cache.direct=on}) when {@code directIo} says its
     * file takes {@code O_DIRECT}: the guest caches its own disk, so the host's copy was a second one of the same
     * data, paid for by every write (a new page-cache page per 4 KiB: on the test host, a nested VM, that made
     * {@code vm cp} into a VM a third slower; docs/agent-protocol.md). Flushes still reach the disk. The root disk
     * keeps the host's cache: its base image is shared by every VM of the image.
     */
    static List<String> build(VmSpec spec, Accelerator accelerator, OptionalLong tscKhz, GuestRam ram,
                              Predicate<java.nio.file.Path> directIo) {
        List<String> a = new ArrayList<>();
        a.add(BINARY);
        add(a, "-name", "guest=" + escape(spec.name()) + ",process=banger-" + escape(spec.name()));
        add(a, "-accel", accelerator.name().toLowerCase(Locale.ROOT));
        add(a, "-M", ram.mode() == GuestRam.Mode.ANONYMOUS ? "microvm" : "microvm,memory-backend=ram");
        if (accelerator == Accelerator.KVM) {
            add(a, "-cpu", "host");
        }
        add(a, "-m", Integer.toString(spec.memoryMib()));
        if (ram.mode() != GuestRam.Mode.ANONYMOUS) {
            add(a, "-object", "memory-backend-file,id=ram,size=" + spec.memoryMib() + "M,mem-path="
                    + escape(abs(ram.file())) + ",share=" + (ram.mode() == GuestRam.Mode.SHARED_FILE ? "on" : "off"));
        }
        add(a, "-smp", Integer.toString(spec.vcpus()));
        a.add("-nodefaults");
        a.add("-no-user-config");
        add(a, "-display", "none");
        a.add("-no-reboot");
        a.add("-daemonize");
        add(a, "-pidfile", QemuFiles.pidFile(spec.vmDir()).toString());
        add(a, "-D", QemuFiles.logFile(spec.vmDir()).toString());

        add(a, "-chardev", "file,id=console,path=" + escape(abs(spec.consoleLog())));
        add(a, "-serial", "chardev:console");

        add(a, "-kernel", abs(spec.kernel()));
        if (spec.initrd() != null) {
            add(a, "-initrd", abs(spec.initrd()));
        }
        add(a, "-append", cmdline(spec.kernelCmdline(), accelerator, tscKhz));

        int i = 0;
        for (DiskSpec disk : spec.disks()) {
            String id = "disk" + i++;
            boolean direct = disk.role() == DiskSpec.Role.WORK && !disk.readOnly() && directIo.test(disk.path());
            add(a, "-drive", "id=" + id + ",file=" + escape(abs(disk.path())) + ",format="
                    + disk.format().name().toLowerCase(Locale.ROOT) + ",if=none" + (disk.readOnly() ? ",readonly=on" : "")
                    + (direct ? ",cache.direct=on" : ""));
            add(a, "-device", "virtio-blk-device,drive=" + id);
        }

        add(a, "-device", "virtio-serial-device");
        add(a, "-chardev", "socket,id=agent,path=" + escape(abs(spec.agentSocket())) + ",server=on,wait=off");
        add(a, "-device", "virtserialport,chardev=agent,name=" + AGENT_PORT_NAME);

        add(a, "-chardev", "socket,id=qmp,path=" + escape(abs(spec.controlSocket())) + ",server=on,wait=off");
        add(a, "-mon", "chardev=qmp,mode=control");
        String events = QemuFiles.eventSocket(spec.controlSocket()).toString();
        add(a, "-chardev", "socket,id=qmp-events,path=" + escape(events) + ",server=on,wait=off");
        add(a, "-mon", "chardev=qmp-events,mode=control");

        spec.network().ifPresent(net -> {
            // No vhost=on: /dev/vhost-net is not available on every host and QEMU fails hard without it.
            add(a, "-netdev", "tap,id=net0,ifname=" + net.tapName() + ",script=no,downscript=no");
            add(a, "-device", "virtio-net-device,netdev=net0,mac=" + net.mac());
        });
        if (ram.mode() == GuestRam.Mode.RESTORE_FROM_FILE) {
            add(a, "-incoming", "defer");
        }
        return a;
    }

    /**
     * The spec's command line, plus what a guest needs under TCG unless the caller already set it:
     * {@code tsc_early_khz} (calibrating the TSC against emulated timers goes wrong when vCPUs wait for the host)
     * and {@code tsc=reliable}. Under TCG every vCPU's TSC is read from the same host clock, but the kernel's
     * TSC sync check at CPU bring-up sees warps (vCPUs run in turns), marks the TSC unstable and falls back to
     * refined-jiffies: a 4 ms clock that loses ticks whenever the vCPU waits for the host. The guest's clock then
     * runs behind the host's, and time-seeded ids collide (busybox/musl name lookups send A and AAAA with the same
     * DNS id and wait 5 s for an answer they already got).
     */
    static String cmdline(String base, Accelerator accelerator, OptionalLong tscKhz) {
        String line = base.strip();
        if (accelerator == Accelerator.TCG && tscKhz.isPresent() && !line.contains("tsc_early_khz=")) {
            line = (line.isEmpty() ? "" : line + " ") + "tsc_early_khz=" + tscKhz.getAsLong();
        }
        if (accelerator == Accelerator.TCG && !line.matches("(.*\\s)?tsc=.*")) {
            line = (line.isEmpty() ? "" : line + " ") + TCG_TSC;
        }
        return line;
    }

    /** See {@link #cmdline}. */
    static final String TCG_TSC = "tsc=reliable";

    private static void add(List<String> argv, String option, String value) {
        argv.add(option);
        argv.add(value);
    }

    private static String abs(java.nio.file.Path p) {
        return p.toAbsolutePath().toString();
    }

    /** QEMU's option syntax: a literal comma in a value is written twice. */
    static String escape(String value) {
        return value.replace(",", ",,");
    }
}
