package dev.banger.testkit;

import dev.banger.vmm.VmmHandle;
import dev.banger.vmm.VmmProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Kills (SIGKILL) every VMM a test tracked and removes its sockets after each test, pass or fail. Register with
 * {@code @RegisterExtension final VmReaper reaper = new VmReaper();} and call {@link #track} right after launch.
 */
public final class VmReaper implements AfterEachCallback {

    private final List<VmmHandle> handles = new CopyOnWriteArrayList<>();

    public VmmHandle track(VmmHandle handle) {
        handles.add(handle);
        return handle;
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        for (VmmHandle h : handles) {
            if (VmmProcess.running(h.pid(), h.startTicks())) {
                ProcessHandle.of(h.pid()).ifPresent(ProcessHandle::destroyForcibly);
                VmmProcess.awaitGone(h.pid(), h.startTicks(), Duration.ofSeconds(10));
            }
            for (Path p : List.of(h.controlSocket(), h.agentSocket())) {
                Files.deleteIfExists(p);
            }
        }
        handles.clear();
    }
}
