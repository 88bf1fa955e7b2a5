package dev.banger.api;

import java.util.List;

/**
 * A guest session as the CLI shows it.
 *
 * @param state "running", "exited" or "killed"
 * @param exitCode once ended: its exit code (128 + signal when killed), else null
 * @param signal the signal that killed it, or null
 * @param startedAt when it started, by the guest's clock (ISO-8601)
 * @param runtimeMs how long it has run (or ran)
 * @param outputBytes all output it wrote; the guest keeps the last MiB of it
 * @param droppedBytes output that no longer fits in the guest's buffer
 * @param attached clients attached now
 */
public record SessionView(String name, int pid, List<String> argv, boolean tty, String state, Integer exitCode,
                          Integer signal, String startedAt, long runtimeMs, long outputBytes, long droppedBytes,
                          int attached) {
}
