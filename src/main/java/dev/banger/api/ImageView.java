package dev.banger.api;

import java.util.List;

/**
 * An image as the CLI shows it, with the VMs that use it.
 *
 * @param isDefault whether a VM created without {@code --image} boots it
 */
public record ImageView(String name, String source, String digest, String rootfsPath, long sizeBytes,
                        boolean isDefault, String createdAt, List<String> usedBy) {
}
