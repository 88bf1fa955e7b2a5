package dev.banger.vmm;

import java.util.List;

/** A {@link VmSpec} that cannot be launched; {@link #problems()} lists every reason, the message joins them. */
public final class InvalidVmSpecException extends VmmException {

    private final List<String> problems;

    public InvalidVmSpecException(String vm, List<String> problems) {
        super("invalid VM spec for " + vm + ": " + String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
