package dev.banger.api;

/**
 * {@code image.register}: adopt an ext4 root filesystem file.
 *
 * @param rootfs absolute path of the ext4 file; banger copies it (reflink where the file system can)
 */
public record ImageRegisterRequest(String name, String rootfs) {
}
