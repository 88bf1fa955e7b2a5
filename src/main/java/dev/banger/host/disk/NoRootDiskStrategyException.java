package dev.banger.host.disk;

import dev.banger.model.VmmKind;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/** No root-disk strategy applies to this host and VMM; the message lists each one tried and why it did not. */
public final class NoRootDiskStrategyException extends RootDiskException {

    private final transient Map<String, Applicability> tried;

    NoRootDiskStrategyException(VmmKind vmm, Map<String, Applicability> tried) {
        super("cannot make a root disk for a " + vmm.wireName() + " VM on this host: no strategy applies (tried "
                + tried.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue().describe())
                        .collect(Collectors.joining("; "))
                + "); see: banger doctor");
        this.tried = new LinkedHashMap<>(tried);
    }

    /** Strategy name to why it did not apply, in the order tried. */
    public Map<String, Applicability> tried() {
        return Map.copyOf(tried);
    }
}
