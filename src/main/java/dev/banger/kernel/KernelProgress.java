package dev.banger.kernel;

import java.util.Objects;

/**
 * One progress report from a kernel import or pull.
 *
 * @param stage which step is running
 * @param message one line for a human
 * @param bytes bytes done so far, or -1 when the step does not count bytes
 * @param totalBytes expected total, or -1 when unknown
 */
public record KernelProgress(Stage stage, String message, long bytes, long totalBytes) {

    public enum Stage { RESOLVE, DOWNLOAD, EXTRACT, MODULES, INITRAMFS, DONE }

    public KernelProgress {
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(message, "message");
    }

    public static KernelProgress of(Stage stage, String message) {
        return new KernelProgress(stage, message, -1, -1);
    }
}
