package dev.banger.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.model.Image;
import dev.banger.model.Kernel;
import dev.banger.model.KernelArtifacts;
import dev.banger.model.KernelFormat;
import dev.banger.model.KernelSource;
import dev.banger.model.Vm;
import dev.banger.model.VmState;
import dev.banger.model.VmmKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatabaseTest {

    @TempDir
    Path dir;

    private static final Instant T = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void migratesAnEmptyFileToTheLatestSchema() {
        try (Database db = Database.openReadWrite(dir.resolve("banger.db"))) {
            assertThat(db.schemaVersion()).isEqualTo(Migrations.latestVersion());
            assertThat(tables(db)).contains("vms", "images", "kernels");
            assertThat(pragma(db, "journal_mode")).isEqualTo("wal");
            assertThat(pragma(db, "foreign_keys")).isEqualTo("1");
            assertThat(pragma(db, "busy_timeout")).isEqualTo("5000");
        }
    }

    @Test
    void reopeningIsIdempotentAndKeepsData() {
        Path file = dir.resolve("banger.db");
        try (Database db = Database.openReadWrite(file)) {
            new VmStore(db).insert(vm("a", "id1"));
        }
        try (Database db = Database.openReadWrite(file)) {
            assertThat(db.schemaVersion()).isEqualTo(Migrations.latestVersion());
            assertThat(new VmStore(db).list()).extracting(Vm::name).containsExactly("a");
        }
    }

    @Test
    void readOnlyOpenNeverMigrates() throws Exception {
        Path file = dir.resolve("empty.db");
        Files.createFile(file);

        assertThatThrownBy(() -> Database.openReadOnly(file))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("schema version 0");
        assertThat(Files.size(file)).as("the read-only open wrote nothing").isZero();
    }

    @Test
    void readOnlyOpenOfAMissingFileSaysWhatToDo() {
        assertThatThrownBy(() -> Database.openReadOnly(dir.resolve("absent.db")))
                .hasMessageContaining("no banger store at")
                .hasMessageContaining("creates it on first start");
        assertThat(dir.resolve("absent.db")).doesNotExist();
    }

    @Test
    void readOnlyOpenReadsAndRefusesWrites() {
        Path file = dir.resolve("banger.db");
        try (Database db = Database.openReadWrite(file)) {
            new VmStore(db).insert(vm("a", "id1"));
        }
        try (Database db = Database.openReadOnly(file)) {
            assertThat(new VmStore(db).list()).hasSize(1);
            assertThatThrownBy(() -> new VmStore(db).insert(vm("b", "id2"))).isInstanceOf(StoreException.class);
        }
    }

    @Test
    void aNewerSchemaIsRefused() {
        Path file = dir.resolve("banger.db");
        try (Database db = Database.openReadWrite(file)) {
            db.query(c -> {
                try (Statement st = c.createStatement()) {
                    st.execute("PRAGMA user_version = 99");
                }
                return null;
            });
        }
        assertThatThrownBy(() -> Database.openReadWrite(file)).hasMessageContaining("newer than this banger");
    }

    @Test
    void duplicateNamesAreUniqueViolationsNamingTheColumn() {
        try (Database db = Database.openReadWrite(dir.resolve("banger.db"))) {
            VmStore vms = new VmStore(db);
            vms.insert(vm("a", "id1"));

            assertThatThrownBy(() -> vms.insert(vm("a", "id2")))
                    .isInstanceOfSatisfying(ConstraintViolation.class, e -> {
                        assertThat(e.kind()).isEqualTo(ConstraintViolation.Kind.UNIQUE);
                        assertThat(e.column()).isEqualTo("vms.name");
                    });
            assertThat(vms.list()).hasSize(1);
        }
    }

    @Test
    void anImageOrKernelInUseCannotBeDeleted() {
        try (Database db = Database.openReadWrite(dir.resolve("banger.db"))) {
            ImageStore images = new ImageStore(db);
            KernelStore kernels = new KernelStore(db);
            images.insert(new Image("img", "register:/x", null, Path.of("/x"), 10, Map.of("A", "1"), "/w",
                    List.of("/bin/sh"), List.of(), T));
            kernels.insert(kernel("k", false));
            Vm vm = vm("a", "id1");
            new VmStore(db).insert(new Vm(vm.id(), vm.name(), vm.state(), vm.vmm(), "img", "k", vm.cpus(),
                    vm.memoryMib(), vm.diskMib(), null, null, 0, vm.vmDir(), vm.controlSocket(), vm.agentSocket(),
                    vm.logPath(), vm.dnsName(), vm.rootDiskPath(), vm.workDiskPath(), null, T, T));

            assertThatThrownBy(() -> images.delete("img")).isInstanceOfSatisfying(ConstraintViolation.class,
                    e -> assertThat(e.kind()).isEqualTo(ConstraintViolation.Kind.FOREIGN_KEY));
            assertThatThrownBy(() -> kernels.delete("k")).isInstanceOf(ConstraintViolation.class);
            assertThat(images.findByName("img").orElseThrow().env()).containsEntry("A", "1");
            assertThat(new VmStore(db).namesUsingImage("img")).containsExactly("a");
        }
    }

    @Test
    void onlyOneKernelIsTheDefault() {
        try (Database db = Database.openReadWrite(dir.resolve("banger.db"))) {
            KernelStore kernels = new KernelStore(db);
            kernels.insert(kernel("k1", true));
            kernels.insert(kernel("k2", false));

            assertThatThrownBy(() -> kernels.insert(kernel("k3", true)))
                    .isInstanceOf(ConstraintViolation.class);
            assertThat(kernels.setDefault("k2")).isTrue();
            assertThat(kernels.findDefault().orElseThrow().name()).isEqualTo("k2");
            assertThat(kernels.setDefault("absent")).isFalse();
            assertThat(kernels.findByName("k1").orElseThrow().artifacts())
                    .as("artifacts round-trip").isEqualTo(kernel("k1", false).artifacts());
            assertThat(kernels.findDefault().orElseThrow().name()).as("a failed switch changes nothing")
                    .isEqualTo("k2");
        }
    }

    @Test
    void updatesChangeStateAndLastError() {
        try (Database db = Database.openReadWrite(dir.resolve("banger.db"))) {
            VmStore vms = new VmStore(db);
            Vm vm = vm("a", "id1");
            vms.insert(vm);
            vms.update(vm.withState(VmState.ERROR, "boot failed", T.plusSeconds(5)));

            Vm back = vms.findByName("a").orElseThrow();
            assertThat(back.state()).isEqualTo(VmState.ERROR);
            assertThat(back.lastError()).isEqualTo("boot failed");
            assertThat(back.updatedAt()).isEqualTo(T.plusSeconds(5));
            assertThat(vms.delete("id1")).isTrue();
            assertThat(vms.delete("id1")).isFalse();
        }
    }

    static Kernel kernel(String name, boolean isDefault) {
        Path dir = Path.of("/state/kernels", name);
        return new Kernel(name, new KernelArtifacts("6.1.0-56-cloud-amd64", KernelFormat.BZIMAGE,
                dir.resolve("vmlinuz"), dir.resolve("vmlinux"), dir.resolve("modules.cpio.gz"),
                List.of("virtio_ring", "virtio_blk"),
                new KernelSource(KernelSource.Kind.APT, "linux-image-6.1.0-56-cloud-amd64 6.1.192-2")), isDefault, T);
    }

    static Vm vm(String name, String id) {
        Path d = Path.of("/state/vms", id);
        return new Vm(id, name, VmState.CREATED, VmmKind.QEMU, null, null, 2, 512, 1024, null, null, 0, d,
                Path.of("/run/vms", id, "control.sock"), Path.of("/run/vms", id, "agent.sock"),
                d.resolve("console.log"), name + ".vm", d.resolve("root.qcow2"), d.resolve("work.ext4"), null, T, T);
    }

    private static List<String> tables(Database db) {
        return db.query(c -> {
            List<String> names = new ArrayList<>();
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table'")) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
            return names;
        });
    }

    private static String pragma(Database db, String name) {
        return db.query(c -> {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA " + name)) {
                rs.next();
                return rs.getString(1);
            }
        });
    }
}
