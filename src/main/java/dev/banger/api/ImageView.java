package dev.banger.api;

import java.util.List;

/** An image as the CLI shows it, with the VMs that use it. */
public record ImageView(String name, String source, String digest, String rootfsPath, long sizeBytes,
                        String createdAt, List<String> usedBy) {
}
