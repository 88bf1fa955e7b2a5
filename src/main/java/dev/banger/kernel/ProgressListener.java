package dev.banger.kernel;

/**
 * Receives progress of a kernel import or pull, on the thread doing the work (the download stage may report from
 * a polling thread). Implementations must be quick and must not throw.
 */
@FunctionalInterface
public interface ProgressListener {

    void progress(KernelProgress event);

    ProgressListener NONE = event -> { };
}
