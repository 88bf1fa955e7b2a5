package dev.banger.store;

import dev.banger.model.Kernel;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The {@code kernels} table. At most one kernel is the default (a partial unique index enforces it). */
public final class KernelStore {

    private static final String COLUMNS = "name, version, source, kernel_path, modules_dir, is_default, created_at";

    private final Database db;

    public KernelStore(Database db) {
        this.db = db;
    }

    public void insert(Kernel kernel) {
        db.transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO kernels (" + COLUMNS + ") VALUES (?,?,?,?,?,?,?)")) {
                ps.setString(1, kernel.name());
                ps.setString(2, kernel.version());
                ps.setString(3, kernel.source());
                ps.setString(4, kernel.kernelPath().toString());
                ps.setString(5, kernel.modulesDir() == null ? null : kernel.modulesDir().toString());
                ps.setInt(6, kernel.isDefault() ? 1 : 0);
                ps.setString(7, kernel.createdAt().toString());
                ps.executeUpdate();
            }
            return null;
        });
    }

    public Optional<Kernel> findByName(String name) {
        return findWhere("name = ?", name);
    }

    public Optional<Kernel> findDefault() {
        return findWhere("is_default = ?", 1);
    }

    private Optional<Kernel> findWhere(String condition, Object value) {
        return db.query(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT " + COLUMNS + " FROM kernels WHERE " + condition)) {
                ps.setObject(1, value);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(read(rs)) : Optional.empty();
                }
            }
        });
    }

    public List<Kernel> list() {
        return db.query(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM kernels ORDER BY name");
                 ResultSet rs = ps.executeQuery()) {
                List<Kernel> kernels = new ArrayList<>();
                while (rs.next()) {
                    kernels.add(read(rs));
                }
                return kernels;
            }
        });
    }

    /** Makes {@code name} the only default kernel; returns false when no such kernel exists. */
    public boolean setDefault(String name) {
        return db.transaction(c -> {
            try (PreparedStatement clear = c.prepareStatement("UPDATE kernels SET is_default = 0 WHERE is_default = 1");
                 PreparedStatement set = c.prepareStatement("UPDATE kernels SET is_default = 1 WHERE name = ?")) {
                clear.executeUpdate();
                set.setString(1, name);
                if (set.executeUpdate() != 1) {
                    c.rollback();
                    return false;
                }
                return true;
            }
        });
    }

    /** @throws ConstraintViolation (FOREIGN_KEY) while a VM still uses the kernel */
    public boolean delete(String name) {
        return db.transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM kernels WHERE name = ?")) {
                ps.setString(1, name);
                return ps.executeUpdate() == 1;
            }
        });
    }

    private static Kernel read(ResultSet rs) throws SQLException {
        String modules = rs.getString("modules_dir");
        return new Kernel(
                rs.getString("name"),
                rs.getString("version"),
                rs.getString("source"),
                Path.of(rs.getString("kernel_path")),
                modules == null ? null : Path.of(modules),
                rs.getInt("is_default") == 1,
                Instant.parse(rs.getString("created_at")));
    }
}
