package dev.banger.api;

import java.util.List;
import java.util.Map;

/**
 * {@code vm.run}: create and start a VM (with the workspace copied in), run a command in it, and with
 * {@code rm} delete the VM afterwards whatever happened, also when the client goes away. Progress events come
 * first, then the command's {@link Event.Output}; input frames feed the command as for {@code vm.exec}.
 *
 * @param name VM name, or null for a generated one (announced in a progress event)
 * @param vmm "qemu" or "firecracker", or null for the daemon's choice (as for {@code vm.create})
 * @param workspace absolute path of the directory to take the git workspace from, or null for none
 * @param workdir directory in the guest to run in, or null for the workspace (else the image's, else /root)
 * @param cold boot the kernel even when a template could restore the VM (docs/snapshots.md)
 */
public record VmRunRequest(String name, String image, String kernel, Integer cpus, Integer memoryMib, Long diskMib,
                           String vmm, boolean rm, String workspace, String workdir, List<String> argv,
                           Map<String, String> env,
                           boolean tty, int rows, int cols, boolean stdin, boolean cold) {
}
