package dev.banger.vm;

import dev.banger.config.BangerPaths;
import dev.banger.json.Json;
import dev.banger.json.JsonException;
import dev.banger.util.Files2;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transient VM handles: an in-memory cache plus {@code handles.json} in each VM dir, written atomically (temp
 * file + rename) so a daemon killed at any moment leaves either the old or the new file. Reconcile reads the file
 * back at start-up.
 */
final class HandleStore {

    private static final Logger log = LoggerFactory.getLogger(HandleStore.class);

    private final BangerPaths paths;
    private final ConcurrentHashMap<String, VmHandles> cache = new ConcurrentHashMap<>();

    HandleStore(BangerPaths paths) {
        this.paths = paths;
    }

    Optional<VmHandles> get(String vmId) {
        return Optional.ofNullable(cache.get(vmId));
    }

    /** The handles of every VM this daemon holds handles for, by VM id, as they are now. */
    java.util.Map<String, VmHandles> snapshot() {
        return java.util.Map.copyOf(cache);
    }

    void put(String vmId, VmHandles handles) throws IOException {
        Files2.writeAtomically(paths.vmHandlesFile(vmId), Json.writeBytes(handles));
        cache.put(vmId, handles);
    }

    void remove(String vmId) {
        cache.remove(vmId);
        try {
            Files.deleteIfExists(paths.vmHandlesFile(vmId));
        } catch (IOException e) {
            log.warn("could not remove {}: {}", paths.vmHandlesFile(vmId), e.toString());
        }
    }

    /** Reads a VM's scratch file into the cache; empty when it is missing or unreadable (which is logged). */
    Optional<VmHandles> load(String vmId) {
        Path file = paths.vmHandlesFile(vmId);
        try {
            VmHandles handles = Json.read(Files.readAllBytes(file), VmHandles.class);
            cache.put(vmId, handles);
            return Optional.of(handles);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | JsonException | NullPointerException e) {
            log.warn("ignoring unreadable {}: {}", file, e.getMessage());
            return Optional.empty();
        }
    }
}
