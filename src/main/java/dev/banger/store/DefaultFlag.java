package dev.banger.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;

/**
 * The default row of a table that has one ({@code kernels}, {@code images}): an {@code is_default} column that a
 * partial unique index allows to be 1 on one row at most.
 */
final class DefaultFlag {

    private DefaultFlag() {
    }

    /**
     * Makes the row named {@code name} the only default of {@code table}; returns false (changing nothing) when
     * there is no such row.
     *
     * @param table a table name from this package, never user input
     */
    static boolean set(Database db, String table, String name) {
        return db.transaction(c -> {
            try (PreparedStatement exists = c.prepareStatement("SELECT 1 FROM " + table + " WHERE name = ?")) {
                exists.setString(1, name);
                try (ResultSet rs = exists.executeQuery()) {
                    if (!rs.next()) {
                        return false;
                    }
                }
            }
            try (PreparedStatement clear = c.prepareStatement("UPDATE " + table + " SET is_default = 0 "
                    + "WHERE is_default = 1");
                 PreparedStatement set = c.prepareStatement("UPDATE " + table + " SET is_default = 1 WHERE name = ?")) {
                clear.executeUpdate();
                set.setString(1, name);
                set.executeUpdate();
                return true;
            }
        });
    }
}
