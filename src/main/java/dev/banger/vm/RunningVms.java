package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.api.VmView;
import dev.banger.config.BangerPaths;
import dev.banger.guest.AgentClient;
import dev.banger.host.network.HostNetwork;
import dev.banger.image.ImageService;
import dev.banger.model.Image;
import dev.banger.model.Vm;
import dev.banger.model.VmState;
import dev.banger.model.VmmKind;
import dev.banger.ssh.GuestSsh;
import dev.banger.store.VmStore;
import dev.banger.vmm.GuestPause;
import dev.banger.vmm.VmmDriver;
import dev.banger.vmm.VmmHandle;
import dev.banger.vmm.VmmProcess;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime registry of VMs: finds a VM by name, its image, its VMM driver, its handles, whether it runs, and
 * the agent of a running one. Every guest-facing service (exec, copy, ports, sessions, connect, workspace export)
 * reaches a guest through {@link #target(String)}; none holds a VM lock.
 */
public final class RunningVms {

    private static final Logger log = LoggerFactory.getLogger(RunningVms.class);

    private final VmStore vms;
    private final ImageService images;
    private final Map<VmmKind, VmmDriver> drivers;
    private final HandleStore handles;
    private final GuestConnections guests = new GuestConnections();
    private final GuestPauses pauses;
    private volatile GuestUpkeep upkeep;

    /** @param drivers the VMMs this host can run, by kind */
    public RunningVms(BangerPaths paths, VmStore vms, ImageService images, Map<VmmKind, VmmDriver> drivers) {
        this.vms = vms;
        this.images = images;
        this.drivers = Map.copyOf(drivers);
        this.handles = new HandleStore(paths);
        this.pauses = new GuestPauses(handles, this.drivers, vms::findById, GuestPauses.RESUME_FREE_BYTES);
    }

    /** @throws BangerException not found, with a hint, when there is no such VM */
    public Vm find(String name) {
        if (name == null) {
            throw BangerException.invalidArgument("a VM name is required");
        }
        return vms.findByName(name).orElseThrow(() ->
                BangerException.notFound("no such VM: " + name + "; see: banger vm list"));
    }

    /** The image a VM was created from: exec, sessions and vm run take its Env and WorkingDir. */
    public Image imageOf(Vm vm) {
        return images.get(vm.imageName());
    }

    /**
     * Whether the VM's VMM is running right now: its handles name a process that still exists and is the same
     * one (pid and start time). The only liveness check; everything else asks it. A VMM whose control socket is
     * slow to answer is still running.
     */
    public boolean isAlive(Vm vm) {
        return vmmOf(vm).map(vmm -> driver(vm.vmm()).isRunning(vmm)).orElse(false);
    }

    /**
     * @throws BangerException conflict, saying how to start it, when the VM is not running, or why it is paused
     *     and how it resumes when its VMM has paused it (a guest that cannot run would leave the caller waiting)
     */
    public void requireRunning(Vm vm) {
        if (!isAlive(vm)) {
            throw BangerException.conflict("VM '" + vm.name() + "' is not running (state " + vm.state().wireName()
                    + "); start it with: banger vm start " + vm.name());
        }
        Optional<GuestPause> pause = pauses.of(vm);
        if (pause.isPresent()) {
            throw BangerException.conflict("VM '" + vm.name() + "' is paused: " + pause.get().reason() + " ("
                    + pauses.describe(vm, pause.get()) + "); resume it with: banger vm resume " + vm.name());
        }
    }

    /** Why the VM's VMM has paused its guest, as last reported; empty while it runs (or cannot tell). */
    public Optional<GuestPause> pauseOf(Vm vm) {
        return pauses.of(vm);
    }

    /** The state as people see it: the record's, except {@value VmView#PAUSED} while the VMM has paused the guest. */
    public String shownState(Vm vm) {
        return shownState(vm, pauses.of(vm));
    }

    /** As {@link #shownState(Vm)}, for a pause already read (a view reads it once for its state and reason). */
    static String shownState(Vm vm, Optional<GuestPause> pause) {
        return pause.isPresent() ? VmView.PAUSED : vm.state().wireName();
    }

    /**
     * The agent connection of a running VM, whose guest trusts banger's current SSH key (checked against the
     * key's .pub at each call, so {@code vm ssh} right after a key rotation works).
     *
     * @throws BangerException conflict when it is not running
     */
    public AgentClient agent(Vm vm) {
        requireRunning(vm);
        AgentClient client = guests.client(vm, driver(vm.vmm()).agentTransport(
                handles.get(vm.id()).orElseThrow().vmm()));
        GuestUpkeep u = upkeep;
        if (u != null) {
            u.authorizeKey(vm, client);
        }
        return client;
    }

    /**
     * Keeps every running guest in step with the host from now on: its clock and banger's key in its
     * authorized_keys, at each new agent connection (a boot's first answer included) and every {@code period}
     * for each VM recorded running. Called once, by the daemon at start.
     */
    public void keepGuestsInStep(GuestSsh ssh, Duration period) {
        GuestUpkeep u = new GuestUpkeep(ssh, Clock.systemUTC());
        guests.onConnect(u::connected);
        upkeep = u;
        u.every(period, () -> {
            for (Vm vm : vms.list()) {
                if (vm.state() != VmState.RUNNING || !isAlive(vm)) {
                    continue;
                }
                try {
                    u.syncClock(vm, agent(vm));
                } catch (BangerException e) {
                    log.debug("VM {}: not kept in step this time: {}", vm.name(), e.getMessage());
                }
            }
        });
    }

    /** The running VM named {@code name}, its image and its agent. */
    public GuestTarget target(String name) {
        Vm vm = find(name);
        return new GuestTarget(vm, imageOf(vm), agent(vm));
    }

    /** @throws BangerException failed precondition when this host has no driver for {@code kind} */
    public VmmDriver driver(VmmKind kind) {
        VmmDriver driver = drivers.get(kind);
        if (driver == null) {
            throw BangerException.failedPrecondition("the " + kind.wireName() + " VMM is not available on this "
                    + "host; see: banger doctor");
        }
        return driver;
    }

    /** The VMM process of a VM, when its handles name one. */
    Optional<VmmHandle> vmmOf(Vm vm) {
        return handles.get(vm.id()).map(VmHandles::vmm); // Null vmm (a boot in progress) reads as empty.
    }

    HandleStore handles() {
        return handles;
    }

    GuestConnections guests() {
        return guests;
    }

    GuestPauses pauses() {
        return pauses;
    }

    /**
     * A VM's handles from the cache, else from its handles.json; either way completed from the host when they
     * name no VMM (see {@link #withRediscoveredVmm}).
     */
    Optional<VmHandles> recoverHandles(Vm vm) {
        return withRediscoveredVmm(vm, handles.get(vm.id()).or(() -> handles.load(vm.id())));
    }

    /** As {@link #recoverHandles} but never trusting the cache: what reconcile reads at daemon start. */
    Optional<VmHandles> handlesAtStart(Vm vm) {
        return withRediscoveredVmm(vm, handles.load(vm.id()));
    }

    /**
     * Handles that name no VMM (lost, or a daemon killed between launching the VMM and recording it) are
     * completed from the host: the VMM is the process whose command line names this VM's control socket, which
     * is unique to the VM. A VM is never taken for stopped while a process of it lives.
     */
    private Optional<VmHandles> withRediscoveredVmm(Vm vm, Optional<VmHandles> known) {
        if (known.isPresent() && known.get().vmm() != null) {
            return known;
        }
        Optional<VmmHandle> found = VmmProcess.findByArgument(vm.controlSocket().toString()).flatMap(pid ->
                VmmProcess.stat(pid).map(stat -> new VmmHandle(vm.id(), vm.vmm(), pid, stat.startTicks(),
                        vm.controlSocket(), vm.agentSocket(), vm.logPath())));
        if (found.isEmpty()) {
            return known;
        }
        VmHandles completed = known.orElse(VmHandles.NONE.withTap(HostNetwork.tapName(vm.id())))
                .withVmm(found.get());
        log.info("VM {}: its handles named no VMM; found it as pid {}", vm.name(), found.get().pid());
        try {
            handles.put(vm.id(), completed);
        } catch (IOException e) {
            log.warn("could not rewrite the handles of {}: {}", vm.name(), e.toString());
        }
        return Optional.of(completed);
    }
}
