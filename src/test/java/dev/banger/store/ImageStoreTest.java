package dev.banger.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.model.Image;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The default image as the store keeps it: one default whenever there is an image, the oldest when in doubt. */
class ImageStoreTest {

    @TempDir
    Path dir;

    private static Image image(String name, String createdAt) {
        return new Image(name, "register:/x", null, Path.of("/images", name, "rootfs.ext4"), 1, Map.of(), null,
                List.of(), List.of(), Instant.parse(createdAt));
    }

    @Test
    void theFirstImageIsTheDefault_untilAnotherIsSet() {
        try (Database db = Database.openReadWrite(dir.resolve("banger.db"))) {
            ImageStore images = new ImageStore(db);
            assertThat(images.defaultName()).isEmpty();

            images.insert(image("debian", "2026-01-01T00:00:00Z"));
            images.insert(image("busybox", "2026-01-01T00:01:00Z"));
            assertThat(images.defaultName()).hasValue("debian");

            assertThat(images.setDefault("busybox")).isTrue();
            assertThat(images.defaultName()).hasValue("busybox");
            images.insert(image("alpine", "2026-01-01T00:02:00Z"));
            assertThat(images.defaultName()).as("a later image does not take over").hasValue("busybox");

            assertThat(images.setDefault("nope")).isFalse();
            assertThat(images.defaultName()).hasValue("busybox");
        }
    }

    @Test
    void deletingTheDefault_makesTheOldestImageLeftTheDefault() {
        try (Database db = Database.openReadWrite(dir.resolve("banger.db"))) {
            ImageStore images = new ImageStore(db);
            images.insert(image("first", "2026-01-01T00:00:00.500Z"));
            images.insert(image("second", "2026-01-01T00:00:01Z"));
            images.insert(image("third", "2026-01-01T00:00:01.250Z"));
            images.setDefault("first");

            images.delete("first");

            assertThat(images.defaultName())
                    .as("by time, although \"...01Z\" sorts after \"...01.250Z\" as text").hasValue("second");
            images.delete("third");
            assertThat(images.defaultName()).hasValue("second");
            images.delete("second");
            assertThat(images.defaultName()).isEmpty();
        }
    }

    @Test
    void migratingAStoreWithImages_makesTheOldestTheDefault() throws Exception {
        Path file = dir.resolve("banger.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement st = c.createStatement()) {
            for (String sql : Migrations.ALL.get(0).sql().split(";\\s*\\n")) {
                if (!sql.isBlank()) {
                    st.execute(sql);
                }
            }
            st.execute("PRAGMA user_version = 1");
            st.execute("INSERT INTO images (name, source, rootfs_path, size_bytes, created_at) VALUES "
                    + "('busybox', 'register:/b', '/b', 1, '2026-03-01T00:00:00Z'), "
                    + "('debian-bookworm', 'debootstrap:bookworm', '/d', 1, '2026-02-01T00:00:00.123Z')");
        }

        try (Database db = Database.openReadWrite(file)) {
            assertThat(db.schemaVersion()).isEqualTo(Migrations.latestVersion());
            assertThat(new ImageStore(db).defaultName()).hasValue("debian-bookworm");
        }
    }
}
