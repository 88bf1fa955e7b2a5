package dev.banger.host.disk;

import dev.banger.host.CommandRunner;
import dev.banger.model.VmmKind;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Picks the root-disk strategy for a new VM: the highest-priority one whose {@code isApplicable} says yes. For an
 * existing VM the strategy is fixed by the disk file it already has ({@link #forDiskFile}); it is never chosen
 * again, because a VM's disk cannot change format between boots.
 */
public final class RootDiskChooser {

    private final List<RootDiskStrategy> strategies;

    /** Strategies in any order; they are tried by descending priority. */
    public RootDiskChooser(List<RootDiskStrategy> strategies) {
        if (strategies.isEmpty()) {
            throw new IllegalArgumentException("no root-disk strategies");
        }
        this.strategies = strategies.stream()
                .sorted(Comparator.comparingInt(RootDiskStrategy::priority).reversed())
                .toList();
    }

    /** qcow2-overlay (QEMU), dm-snapshot, reflink-or-copy, running their programs with {@code runner}. */
    public static RootDiskChooser standard(CommandRunner runner) {
        return new RootDiskChooser(List.of(new Qcow2OverlayStrategy(runner), new DmSnapshotStrategy(runner),
                new ReflinkCopyStrategy(runner)));
    }

    /** By descending priority. */
    public List<RootDiskStrategy> strategies() {
        return strategies;
    }

    /**
     * The first applicable strategy by priority.
     *
     * @throws NoRootDiskStrategyException listing every strategy and why it did not apply
     */
    public RootDiskStrategy choose(HostCapabilities host, VmmKind vmm) {
        Map<String, Applicability> tried = new LinkedHashMap<>();
        for (RootDiskStrategy strategy : strategies) {
            Applicability applicability = strategy.isApplicable(host, vmm);
            if (applicability.applicable()) {
                return strategy;
            }
            tried.put(strategy.name(), applicability);
        }
        throw new NoRootDiskStrategyException(vmm, tried);
    }

    /**
     * The root disk of a template guest and of the VMs restored from it (docs/snapshots.md): the first applicable
     * strategy by priority whose VMM {@linkplain RootDiskStrategy#opensDiskFile opens its disk file itself}, so
     * the file as it was at capture is the template's disk state and each clone takes a copy of it. QEMU gets the
     * qcow2 overlay, Firecracker (raw disks only) the copy, whatever device-mapper offers.
     *
     * @throws NoRootDiskStrategyException listing every strategy and why it did not apply
     */
    public RootDiskStrategy forTemplate(HostCapabilities host, VmmKind vmm) {
        Map<String, Applicability> tried = new LinkedHashMap<>();
        for (RootDiskStrategy strategy : strategies) {
            Applicability applicability = strategy.opensDiskFile() ? strategy.isApplicable(host, vmm)
                    : Applicability.no("a template's disk must be a file the VMM opens itself, and "
                            + strategy.name() + " attaches a device built over its file", null);
            if (applicability.applicable()) {
                return strategy;
            }
            tried.put(strategy.name(), applicability);
        }
        throw new NoRootDiskStrategyException(vmm, tried);
    }

    /** The strategy that made {@code diskFile} (a VM's recorded root disk), by its file name. */
    public RootDiskStrategy forDiskFile(Path diskFile) {
        for (RootDiskStrategy strategy : strategies) {
            if (diskFile.getParent() != null && strategy.diskFile(diskFile.getParent()).equals(diskFile)) {
                return strategy;
            }
        }
        throw new RootDiskException("no root-disk strategy makes a file named " + diskFile.getFileName() + " ("
                + diskFile + "); delete the VM and create it again");
    }

    /** The strategy called {@code name}, as recorded in {@link RootDiskHandles#strategy()}. */
    public RootDiskStrategy named(String name) {
        return strategies.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow(() ->
                new RootDiskException("unknown root-disk strategy '" + name + "'; known: "
                        + strategies.stream().map(RootDiskStrategy::name).toList()));
    }

    /** Releases {@code handles} with the strategy that acquired them; see {@link RootDiskStrategy#teardown}. */
    public void teardown(RootDiskHandles handles) {
        named(handles.strategy()).teardown(handles);
    }
}
