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

/** The {@code images} table. */
public final class ImageStore {

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
            return null;
        });
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
     * Removes the record.
     *
     * @throws ConstraintViolation (FOREIGN_KEY) while a VM still uses the image
     */
    public boolean delete(String name) {
        return db.transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM images WHERE name = ?")) {
                ps.setString(1, name);
                return ps.executeUpdate() == 1;
            }
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
