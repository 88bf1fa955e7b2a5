package dev.banger.api;

/**
 * {@code vm.copy-in} and {@code vm.copy-out}: a tar archive streamed between the client and a path in the VM
 * (docs/agent-protocol.md, "File copy", says where it lands). Copy-in first emits one {@link #ready} event, once
 * the VM is found running and the guest has the copy open; the client sends the archive after it as input data
 * and ends it with end-of-input, so a VM that does not exist or is not running is reported before anything is
 * sent. Copy-out sends the archive as output (stdout) data.
 *
 * @param path an absolute path in the guest
 */
public record VmCopyRequest(String name, String path) {

    /** The stage of the event that says copy-in is ready for the archive. */
    public static final String READY_STAGE = "copy-in";

    /** The event that says copy-in is ready for the archive. */
    public static Event.Progress ready(String vm, String path) {
        return Event.Progress.started(READY_STAGE, "VM '" + vm + "', " + path);
    }
}
