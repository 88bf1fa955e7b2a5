package dev.banger.api;

import dev.banger.json.WireName;

/** Something a streaming call reports before its result: progress of a long operation, or command output. */
public sealed interface Event {

    /**
     * A stage of a long operation.
     *
     * @param stage short name of the step ("provision-disks", "launch-vmm", "pull-layer")
     * @param status "started", "running", "done", "failed", or "warning" (something the user should know; the call
     *     goes on)
     * @param detail human text, may be null
     * @param elapsedMs time spent in the stage so far (done: its duration)
     * @param current bytes or items done, or -1 when not counted
     * @param total bytes or items expected, or -1 when unknown
     */
    @WireName("progress")
    record Progress(String stage, String status, String detail, long elapsedMs, long current, long total)
            implements Event {

        public static Progress started(String stage, String detail) {
            return new Progress(stage, "started", detail, 0, -1, -1);
        }

        public static Progress done(String stage, String detail, long elapsedMs) {
            return new Progress(stage, "done", detail, elapsedMs, -1, -1);
        }
    }

    /**
     * Bytes written by a guest command.
     *
     * @param stream "stdout" or "stderr"
     */
    @WireName("output")
    record Output(String stream, byte[] data) implements Event {
    }
}
