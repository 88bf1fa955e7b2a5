package dev.banger.image.layer;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The staging space all image pulls of one daemon share, so concurrent pulls cannot together exhaust memory or
 * disk. There are two places: tmpfs (fast, but it is RAM) and disk (the state dir's file system). A pull stages in
 * one and charges what it writes there through a {@link Charge}: each block of file content actually allocated
 * (runs of zeros are holes and cost nothing) and {@link #ENTRY_COST} per entry. A charge that would take its place
 * past its capacity, or leave the file system there with less than {@link #MIN_FREE} free, fails with a
 * {@link StagingSpaceException} and charges nothing. Closing a charge (once the pull's tree is removed) gives its
 * bytes back. Content a later layer replaces or whites out stays charged until the pull ends. Thread-safe.
 */
public final class StagingBudget {

    /** Where a pull stages. */
    public enum Place {
        TMPFS("tmpfs"), DISK("disk");

        private final String label;

        Place(String label) {
            this.label = label;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    /** A file system staging is on never goes below this much free space. */
    public static final long MIN_FREE = 1L << 30;
    /** What an entry costs besides its content: inode and directory entry, roughly. */
    public static final long ENTRY_COST = 1024;
    /** The default disk budget: what {@link FlattenLimits#DEFAULT} lets one image unpack to. */
    public static final long DEFAULT_DISK_BYTES = 64L << 30;
    private static final long FREE_CHECK_EVERY = 64L << 20;

    private final long tmpfsCapacity;
    private final long diskCapacity;
    private final String configHint;
    private final long minFree;
    private long tmpfsUsed;
    private long diskUsed;
    private int tmpfsCharges;
    private int diskCharges;

    /**
     * @param tmpfsBytes what all pulls together may stage on tmpfs
     * @param diskBytes what all pulls together may stage on disk (the ext4 being built counts too)
     * @param configHint how to change the budgets, for the refusal, e.g. "images.stagingDiskMib in config.json"
     */
    public StagingBudget(long tmpfsBytes, long diskBytes, String configHint) {
        this(tmpfsBytes, diskBytes, configHint, MIN_FREE);
    }

    private StagingBudget(long tmpfsBytes, long diskBytes, String configHint, long minFree) {
        if (tmpfsBytes < 0 || diskBytes <= 0) {
            throw new IllegalArgumentException("staging budgets must be positive: tmpfs " + tmpfsBytes + ", disk "
                    + diskBytes);
        }
        this.tmpfsCapacity = tmpfsBytes;
        this.diskCapacity = diskBytes;
        this.configHint = configHint;
        this.minFree = minFree;
    }

    /** No budget and no reserve: the file systems' own space is the bound (for tests and tools). */
    public static StagingBudget unlimited() {
        return new StagingBudget(Long.MAX_VALUE, Long.MAX_VALUE, "", 0);
    }

    /**
     * The daemon's budget: {@code tmpfsBytes} (null: a quarter of {@code tmpfs}'s size, none without a tmpfs) and
     * {@code diskBytes} (null: {@link #DEFAULT_DISK_BYTES}).
     */
    public static StagingBudget forDaemon(Path tmpfs, Long tmpfsBytes, Long diskBytes, String configHint) {
        long tmpfsCap = tmpfsBytes != null ? tmpfsBytes : tmpfs == null ? 0 : defaultTmpfs(tmpfs);
        return new StagingBudget(tmpfsCap, diskBytes != null ? diskBytes : DEFAULT_DISK_BYTES, configHint);
    }

    private static long defaultTmpfs(Path tmpfs) {
        try {
            Path existing = tmpfs;
            while (existing != null && !Files.exists(existing)) {
                existing = existing.getParent();
            }
            return existing == null ? 0 : Files.getFileStore(existing).getTotalSpace() / 4;
        } catch (IOException e) {
            return 0;
        }
    }

    public long capacity(Place place) {
        return place == Place.TMPFS ? tmpfsCapacity : diskCapacity;
    }

    public synchronized long used(Place place) {
        return place == Place.TMPFS ? tmpfsUsed : diskUsed;
    }

    /** What is left in {@code place} for a new pull. */
    public synchronized long available(Place place) {
        return capacity(place) - used(place);
    }

    /**
     * A new, empty charge against {@code place} for one pull staging in {@code dir} (whose file system's free space
     * is watched; null for none).
     */
    public synchronized Charge open(Place place, Path dir) {
        FileStore store = null;
        if (dir != null) {
            try {
                store = Files.getFileStore(dir);
            } catch (IOException e) {
                store = null; // the budget alone then
            }
        }
        if (place == Place.TMPFS) {
            tmpfsCharges++;
        } else {
            diskCharges++;
        }
        return new Charge(place, dir, store);
    }

    private synchronized void take(Charge charge, long bytes) {
        long used = used(charge.place);
        long capacity = capacity(charge.place);
        if (bytes > capacity - used) {
            int others = (charge.place == Place.TMPFS ? tmpfsCharges : diskCharges) - 1;
            throw new StagingSpaceException(charge.place, "the " + charge.place + " staging budget for image pulls"
                    + " is used up: this pull has staged " + human(charge.bytes) + ", " + others + " other pull"
                    + (others == 1 ? " holds " : "s hold ") + human(used - charge.bytes) + ", of "
                    + human(capacity) + (configHint.isEmpty() ? "" : " (" + configHint + ")")
                    + "; retry when other pulls finish, or raise the budget");
        }
        if (charge.place == Place.TMPFS) {
            tmpfsUsed += bytes;
        } else {
            diskUsed += bytes;
        }
    }

    private synchronized void give(Charge charge, long bytes) {
        if (charge.place == Place.TMPFS) {
            tmpfsUsed -= bytes;
            tmpfsCharges--;
        } else {
            diskUsed -= bytes;
            diskCharges--;
        }
    }

    static String human(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }

    /** One pull's share of a place. Used by one thread at a time. */
    public final class Charge implements AutoCloseable {

        private final Place place;
        private final Path dir;
        private final FileStore store;
        private long bytes;
        private long sinceFreeCheck = FREE_CHECK_EVERY;
        private boolean closed;

        private Charge(Place place, Path dir, FileStore store) {
            this.place = place;
            this.dir = dir;
            this.store = store;
        }

        public Place place() {
            return place;
        }

        /** What this pull has charged so far. */
        public long bytes() {
            return bytes;
        }

        /**
         * Charges {@code n} more bytes.
         *
         * @throws StagingSpaceException when they do not fit (nothing is charged then)
         */
        public void add(long n) {
            if (closed) {
                throw new IllegalStateException("charge closed");
            }
            sinceFreeCheck += n;
            if (store != null && minFree > 0 && sinceFreeCheck >= FREE_CHECK_EVERY) {
                long free;
                try {
                    free = store.getUsableSpace();
                } catch (IOException e) {
                    free = Long.MAX_VALUE;
                }
                if (free - n < minFree) {
                    throw new StagingSpaceException(place, "the file system of " + dir + " has " + human(free)
                            + " free; image staging keeps at least " + human(minFree) + " free there; free some"
                            + " space and retry");
                }
                sinceFreeCheck = 0;
            }
            take(this, n);
            bytes += n;
        }

        /** Gives everything charged back; call once the staged files are gone. Idempotent. */
        @Override
        public void close() {
            if (!closed) {
                closed = true;
                give(this, bytes);
                bytes = 0;
            }
        }
    }
}
