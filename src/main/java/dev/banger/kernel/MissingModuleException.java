package dev.banger.kernel;

/** A module banger needs exists neither as a loadable module nor built into the kernel. */
public final class MissingModuleException extends KernelException {

    private final String module;

    public MissingModuleException(String module, String message) {
        super(message);
        this.module = module;
    }

    /** The module name that could not be found. */
    public String module() {
        return module;
    }
}
