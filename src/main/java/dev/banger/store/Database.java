package dev.banger.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * The SQLite store: one connection, WAL journal, busy timeout, foreign keys on. Opening read-write brings the
 * schema up to date; opening read-only never migrates and refuses a store whose schema is not current.
 *
 * <p>All access is serialised on this object; the daemon's store traffic is a few small statements per RPC.
 */
public final class Database implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Database.class);
    private static final int BUSY_TIMEOUT_MS = 5_000;

    private final Connection connection;
    private final boolean readOnly;

    private Database(Connection connection, boolean readOnly) {
        this.connection = connection;
        this.readOnly = readOnly;
    }

    /** Opens (creating if needed) and migrates the store at {@code file}. */
    public static Database openReadWrite(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
        } catch (java.io.IOException e) {
            throw new StoreException("cannot create the directory of " + file + ": " + e.getMessage(), e);
        }
        SQLiteConfig config = baseConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        Database db = new Database(connect(file, config), false);
        try {
            db.migrate();
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
        return db;
    }

    /**
     * Opens an existing store without changing it.
     *
     * @throws StoreException when the file is missing or its schema is older or newer than this build's
     */
    public static Database openReadOnly(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new StoreException("no banger store at " + file + " (the daemon creates it on first start)");
        }
        SQLiteConfig config = baseConfig();
        config.setReadOnly(true);
        Database db = new Database(connect(file, config), true);
        int version = db.schemaVersion();
        if (version != Migrations.latestVersion()) {
            db.close();
            throw new StoreException("store " + file + " has schema version " + version + ", this banger needs "
                    + Migrations.latestVersion() + "; start bangerd once to migrate it");
        }
        return db;
    }

    private static SQLiteConfig baseConfig() {
        SQLiteConfig config = new SQLiteConfig();
        config.enforceForeignKeys(true);
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        return config;
    }

    private static Connection connect(Path file, SQLiteConfig config) {
        Properties props = config.toProperties();
        try {
            return DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath(), props);
        } catch (SQLException e) {
            throw new StoreException("cannot open store " + file + ": " + e.getMessage(), e);
        }
    }

    public boolean readOnly() {
        return readOnly;
    }

    public synchronized int schemaVersion() {
        try (Statement st = connection.createStatement(); var rs = st.executeQuery("PRAGMA user_version")) {
            return rs.next() ? rs.getInt(1) : 0;
        } catch (SQLException e) {
            throw new StoreException("cannot read the schema version: " + e.getMessage(), e);
        }
    }

    private synchronized void migrate() {
        int current = schemaVersion();
        if (current > Migrations.latestVersion()) {
            throw new StoreException("store has schema version " + current + ", newer than this banger ("
                    + Migrations.latestVersion() + "); use a newer banger");
        }
        for (Migration m : Migrations.ALL) {
            if (m.version() <= current) {
                continue;
            }
            log.info("migrating store to version {} ({})", m.version(), m.description());
            transaction(c -> {
                try (Statement st = c.createStatement()) {
                    for (String sql : m.sql().split(";\\s*\\n")) {
                        if (!sql.isBlank()) {
                            st.execute(sql);
                        }
                    }
                    st.execute("PRAGMA user_version = " + m.version());
                }
                return null;
            });
        }
    }

    /** Work done with the connection, inside or outside a transaction. */
    @FunctionalInterface
    public interface Work<T> {
        T apply(Connection connection) throws SQLException;
    }

    /** Runs {@code work} in one transaction; SQL errors become {@link StoreException}s (or constraint errors). */
    public synchronized <T> T transaction(Work<T> work) {
        try {
            connection.setAutoCommit(false);
            try {
                T result = work.apply(connection);
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw translate(e);
        }
    }

    /** Runs a read (or a single statement) without an explicit transaction. */
    public synchronized <T> T query(Work<T> work) {
        try {
            return work.apply(connection);
        } catch (SQLException e) {
            throw translate(e);
        }
    }

    private static RuntimeException translate(SQLException e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (message.contains("UNIQUE constraint failed") || message.contains("PRIMARY KEY")) {
            return new ConstraintViolation(ConstraintViolation.Kind.UNIQUE, message, e);
        }
        if (message.contains("FOREIGN KEY constraint failed")) {
            return new ConstraintViolation(ConstraintViolation.Kind.FOREIGN_KEY, message, e);
        }
        return new StoreException("store query failed: " + message, e);
    }

    @Override
    public synchronized void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            log.warn("closing the store failed: {}", e.toString());
        }
    }
}
