package dev.banger.store;

import dev.banger.json.Json;
import dev.banger.model.Kernel;
import dev.banger.model.KernelArtifacts;
import dev.banger.model.KernelFormat;
import dev.banger.model.KernelSource;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The {@code kernels} table. At most one kernel is the default (a partial unique index enforces it). */
public final class KernelStore {

    private static final String COLUMNS = "name, version, format, source_kind, source_ref, kernel_path, "
            + "modules_initramfs, modules_json, is_default, created_at, vmlinux_path";

    private final Database db;

    public KernelStore(Database db) {
        this.db = db;
    }

    /** @throws ConstraintViolation when the name is taken, or when it is a second default */
    public void insert(Kernel kernel) {
        db.transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO kernels (" + COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?,?,?)")) {
                KernelArtifacts a = kernel.artifacts();
                ps.setString(1, kernel.name());
                ps.setString(2, a.version());
                ps.setString(3, a.format().name().toLowerCase(Locale.ROOT));
                ps.setString(4, a.source().kind().name().toLowerCase(Locale.ROOT));
                ps.setString(5, a.source().reference());
                ps.setString(6, a.kernel().toString());
                ps.setString(7, a.modulesInitramfs().toString());
                ps.setString(8, Json.write(a.modules()));
                ps.setInt(9, kernel.isDefault() ? 1 : 0);
                ps.setString(10, kernel.createdAt().toString());
                ps.setString(11, a.vmlinux() == null ? null : a.vmlinux().toString());
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

    /** Makes {@code name} the only default kernel; returns false (changing nothing) when no such kernel exists. */
    public boolean setDefault(String name) {
        return DefaultFlag.set(db, "kernels", name);
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
        List<String> modules = new ArrayList<>();
        for (Object module : (List<?>) Json.parseTree(rs.getString("modules_json"))) {
            modules.add((String) module);
        }
        KernelArtifacts artifacts = new KernelArtifacts(
                rs.getString("version"),
                KernelFormat.valueOf(rs.getString("format").toUpperCase(Locale.ROOT)),
                Path.of(rs.getString("kernel_path")),
                rs.getString("vmlinux_path") == null ? null : Path.of(rs.getString("vmlinux_path")),
                Path.of(rs.getString("modules_initramfs")),
                modules,
                new KernelSource(KernelSource.Kind.valueOf(rs.getString("source_kind").toUpperCase(Locale.ROOT)),
                        rs.getString("source_ref")));
        return new Kernel(rs.getString("name"), artifacts, rs.getInt("is_default") == 1,
                Instant.parse(rs.getString("created_at")));
    }
}
