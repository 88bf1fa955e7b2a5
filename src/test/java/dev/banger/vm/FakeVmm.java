package dev.banger.vm;

import dev.banger.guest.AgentTransport;
import dev.banger.guest.UnixSocketTransport;
import dev.banger.model.VmmKind;
import dev.banger.testkit.AgentProcess;
import dev.banger.vmm.GuestPause;
import dev.banger.vmm.PauseReports;
import dev.banger.vmm.VmSpec;
import dev.banger.vmm.VmmDriver;
import dev.banger.vmm.VmmException;
import dev.banger.vmm.VmmHandle;
import dev.banger.vmm.VmmProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A VMM for tests of the VM service that need no QEMU: the "guest" is the real banger-init in agent mode on a Unix
 * socket, run as an ordinary host process, so the handles hold a real pid and start time, liveness and termination
 * act on a real process, and the agent answers HELLO, ping, exec and shutdown (after which it exits, as a guest
 * powering off ends its VMM). {@link Behaviour} makes a launch fail in the ways real VMMs do.
 */
final class FakeVmm implements VmmDriver {

    enum Behaviour {
        /** The "guest" boots and its agent answers. */
        BOOTS,
        /** launch() fails the way QEMU does on a bad command line: nothing is left running. */
        LAUNCH_FAILS,
        /** The process runs but no agent ever answers (a guest stuck in boot). */
        AGENT_SILENT,
        /** The process exits shortly after launch, before any agent answers (a kernel that panics). */
        EXITS_DURING_BOOT
    }

    private final Path dir;
    private volatile Behaviour behaviour = Behaviour.BOOTS;
    private final ConcurrentHashMap<String, AgentProcess> agents = new ConcurrentHashMap<>();
    private final List<Process> others = new CopyOnWriteArrayList<>();
    final List<VmSpec> launched = new CopyOnWriteArrayList<>();
    /** Guests this fake reports paused, by VM id (the "guest" itself goes on answering). */
    private final ConcurrentHashMap<String, GuestPause> paused = new ConcurrentHashMap<>();
    final List<String> resumed = new CopyOnWriteArrayList<>();

    FakeVmm(Path dir) {
        this.dir = dir;
    }

    void behave(Behaviour next) {
        behaviour = next;
    }

    @Override
    public VmmKind kind() {
        return VmmKind.QEMU;
    }

    @Override
    public VmmHandle launch(VmSpec spec) {
        launched.add(spec);
        try {
            Path vmDir = Files.createDirectories(dir.resolve(spec.id() + "-" + launched.size()));
            long pid;
            switch (behaviour) {
                case LAUNCH_FAILS -> throw new VmmException("qemu-system-x86_64: -drive file=x: Could not open 'x'");
                case BOOTS -> {
                    // Like QEMU's -qmp unix:PATH, the process names the VM's control socket on its command line
                    // (the marker reconcile finds a VMM by), here as part of its agent socket's path.
                    AgentProcess agent = AgentProcess.start(vmDir,
                            Path.of(spec.controlSocket() + "-agent"));
                    agents.put(spec.id(), agent);
                    pid = agent.process().pid();
                }
                case AGENT_SILENT -> {
                    // What a real console shows of a guest whose init never starts its agent.
                    Files.writeString(spec.consoleLog(), "[    0.912345] Run /init as init process\n");
                    pid = spawn("sleep", "60");
                }
                case EXITS_DURING_BOOT -> {
                    Files.writeString(spec.consoleLog(), "[    0.812345] Kernel panic - not syncing: VFS: Unable to"
                            + " mount root fs on unknown-block(0,0)\n");
                    pid = spawn("sleep", "0.3");
                }
                default -> throw new IllegalStateException(behaviour.toString());
            }
            long ticks = VmmProcess.stat(pid).orElseThrow().startTicks();
            return new VmmHandle(spec.id(), VmmKind.QEMU, pid, ticks, spec.controlSocket(), socketOf(spec.id()),
                    spec.consoleLog());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmmException("interrupted");
        }
    }

    private Path socketOf(String vmId) {
        AgentProcess agent = agents.get(vmId);
        return agent != null ? agent.socket() : dir.resolve(vmId + "-nobody.sock");
    }

    private long spawn(String... argv) throws IOException {
        Process p = new ProcessBuilder(argv).start();
        others.add(p);
        return p.pid();
    }

    @Override
    public boolean isAlive(VmmHandle handle) {
        return VmmProcess.running(handle.pid(), handle.startTicks());
    }

    @Override
    public void requestPowerdown(VmmHandle handle) {
        // The fake guest has no power button: the VM service then terminates the process.
    }

    @Override
    public AgentTransport agentTransport(VmmHandle handle) {
        return new UnixSocketTransport(handle.agentSocket());
    }

    @Override
    public void requireAvailable() {
    }

    /** From now on the VMM reports the VM's guest paused, as QEMU does on a full disk, until it is resumed. */
    void pause(String vmId, GuestPause pause) {
        paused.put(vmId, pause);
    }

    @Override
    public Optional<PauseReports> pauseReports(VmmHandle handle) {
        return Optional.of(new PauseReports() {
            @Override
            public Optional<GuestPause> poll() {
                return Optional.ofNullable(paused.get(handle.vmId()));
            }

            @Override
            public Optional<String> shutdown() {
                return Optional.empty();
            }

            @Override
            public void close() {
            }
        });
    }

    @Override
    public void resume(VmmHandle handle) {
        paused.remove(handle.vmId());
        resumed.add(handle.vmId());
    }

    /** Kills the "VMM" of a VM behind the service's back, as {@code kill -9} of QEMU would. */
    void crash(String vmId) throws InterruptedException {
        AgentProcess agent = agents.get(vmId);
        if (agent != null) {
            agent.killHard();
        }
    }

    /** Ends every process this fake started. */
    void closeAll() throws InterruptedException {
        for (AgentProcess agent : agents.values()) {
            agent.close();
        }
        for (Process p : others) {
            p.destroyForcibly();
            p.waitFor();
        }
    }
}
