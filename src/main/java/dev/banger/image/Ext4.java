package dev.banger.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Recognises ext2/3/4 file systems by their superblock magic (0xEF53 at byte 1080). */
public final class Ext4 {

    private static final int MAGIC_OFFSET = 1024 + 56;
    private static final short MAGIC = (short) 0xEF53;

    private Ext4() {
    }

    public static boolean isExtFilesystem(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN);
            if (ch.read(buf, MAGIC_OFFSET) != 2) {
                return false;
            }
            return buf.getShort(0) == MAGIC;
        }
    }
}
