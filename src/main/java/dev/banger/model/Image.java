package dev.banger.model;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A root filesystem VMs boot from: an ext4 file, read-only once published.
 *
 * @param source where it came from ("register:PATH", an OCI reference, "promote:VM")
 * @param digest the manifest digest for pulled images, else null
 * @param env the image config's environment (exec and vm run use it)
 * @param workingDir the image config's working directory, or null
 */
public record Image(
        String name,
        String source,
        String digest,
        Path rootfsPath,
        long sizeBytes,
        Map<String, String> env,
        String workingDir,
        List<String> entrypoint,
        List<String> cmd,
        Instant createdAt) {

    public Image {
        env = Map.copyOf(env);
        entrypoint = List.copyOf(entrypoint);
        cmd = List.copyOf(cmd);
    }
}
