package dev.banger.store;

import dev.banger.json.Json;
import dev.banger.json.JsonException;
import dev.banger.model.Image;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code images} table. Whenever there is an image, exactly one is the default (a partial unique index allows
 * at most one): the first image recorded, until {@link #setDefault} names another; when the default is deleted,
 * the oldest image left takes its place.
 */
public final class ImageStore {

    /**
     * Makes the oldest image the default when none is; does nothing otherwise. Ordered by time, not by the text
     * of {@code created_at}: an ISO instant with fractional seconds sorts before one without in the same second.
     */
    static final String OLDEST_BECOMES_DEFAULT = "UPDATE images SET is_default = 1 WHERE NOT EXISTS "
            + "(SELECT 1 FROM images WHERE is_default = 1) AND name = "
            + "(SELECT name FROM images ORDER BY julianday(created_at), name LIMIT 1)";

    /** The image config fields kept as one JSON column: they are only ever read whole. */
    record ImageConfig(Map<String, String> env, String workingDir, List<String> entrypoint, List<String> cmd) {
    }

    private static final String COLUMNS = "name, source, digest, rootfs_path, size_bytes, config_json, created_at";

    private final Database db;

    public ImageStore(Database db) {
        this.db = db;
    }

    public void insert(Image image) {
        db.transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO images (" + COLUMNS + ") VALUES (?,?,?,?,?,?,?)")) {
                ps.setString(1, image.name());
                ps.setString(2, image.source());
                ps.setString(3, image.digest());
                ps.setString(4, image.rootfsPath().toString());
                ps.setLong(5, image.sizeBytes());
                ps.setString(6, configJson(image));
                ps.setString(7, image.createdAt().toString());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement(OLDEST_BECOMES_DEFAULT)) {
                ps.executeUpdate();
            }
            return null;
        });
    }

    /**
     * Replaces the record of {@code image.name()} (source, digest, root disk, size, config, time) in one
     * transaction, unless a VM uses the image; the default flag stays where it was.
     *
     * @return false, changing nothing, when a VM uses the image or there is no such image
     */
    public boolean replaceUnlessUsed(Image image) {
        return db.transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE images SET source = ?, digest = ?, "
                    + "rootfs_path = ?, size_bytes = ?, config_json = ?, created_at = ? WHERE name = ? "
                    + "AND NOT EXISTS (SELECT 1 FROM vms WHERE image_name = ?)")) {
                ps.setString(1, image.source());
                ps.setString(2, image.digest());
                ps.setString(3, image.rootfsPath().toString());
                ps.setLong(4, image.sizeBytes());
                ps.setString(5, configJson(image));
                ps.setString(6, image.createdAt().toString());
                ps.setString(7, image.name());
                ps.setString(8, image.name());
                return ps.executeUpdate() == 1;
            }
        });
    }

    /** The default image's name; empty only when there is no image. */
    public Optional<String> defaultName() {
        return db.query(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT name FROM images WHERE is_default = 1");
                 ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        });
    }

    /** Makes {@code name} the default image; returns false (changing nothing) when no such image exists. */
    public boolean setDefault(String name) {
        return DefaultFlag.set(db, "images", name);
    }

    public Optional<Image> findByName(String name) {
        return db.query(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM images WHERE name = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(read(rs)) : Optional.empty();
                }
            }
        });
    }

    public List<Image> list() {
        return db.query(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM images ORDER BY name");
                 ResultSet rs = ps.executeQuery()) {
                List<Image> images = new ArrayList<>();
                while (rs.next()) {
                    images.add(read(rs));
                }
                return images;
            }
        });
    }

    /**
     * Removes the record; when it was the default, the oldest image left becomes the default.
     *
     * @throws ConstraintViolation (FOREIGN_KEY) while a VM still uses the image
     */
    public boolean delete(String name) {
        return db.transaction(c -> {
            boolean deleted;
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM images WHERE name = ?")) {
                ps.setString(1, name);
                deleted = ps.executeUpdate() == 1;
            }
            try (PreparedStatement ps = c.prepareStatement(OLDEST_BECOMES_DEFAULT)) {
                ps.executeUpdate();
            }
            return deleted;
        });
    }

    private String configJson(Image image) {
        return Json.write(new ImageConfig(image.env(), image.workingDir(), image.entrypoint(), image.cmd()));
    }

    private Image read(ResultSet rs) throws SQLException {
        ImageConfig config;
        try {
            config = Json.read(rs.getString("config_json"), ImageConfig.class);
        } catch (JsonException e) {
            throw new StoreException("image " + rs.getString("name") + " has an unreadable config", e);
        }
        return new Image(
                rs.getString("name"),
                rs.getString("source"),
                rs.getString("digest"),
                Path.of(rs.getString("rootfs_path")),
                rs.getLong("size_bytes"),
                config.env() == null ? Map.of() : config.env(),
                config.workingDir(),
                config.entrypoint() == null ? List.of() : config.entrypoint(),
                config.cmd() == null ? List.of() : config.cmd(),
                Instant.parse(rs.getString("created_at")));
    }
}
