package dev.banger.store;

import java.util.List;

/**
 * The schema history. The schema version lives in SQLite's {@code PRAGMA user_version}: 0 is an empty file,
 * and each migration sets it to its own version in the same transaction as its DDL.
 */
final class Migrations {

    private Migrations() {
    }

    static final List<Migration> ALL = List.of(new Migration(1, "baseline", """
            CREATE TABLE kernels (
                name              TEXT PRIMARY KEY,
                version           TEXT NOT NULL,
                format            TEXT NOT NULL CHECK (format IN ('bzimage','elf')),
                source_kind       TEXT NOT NULL CHECK (source_kind IN ('apt','deb','file')),
                source_ref        TEXT NOT NULL,
                kernel_path       TEXT NOT NULL,
                modules_initramfs TEXT NOT NULL,
                modules_json      TEXT NOT NULL DEFAULT '[]',
                is_default        INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
                created_at        TEXT NOT NULL
            );
            CREATE UNIQUE INDEX kernels_single_default ON kernels (is_default) WHERE is_default = 1;

            CREATE TABLE images (
                name        TEXT PRIMARY KEY,
                source      TEXT NOT NULL,
                digest      TEXT,
                rootfs_path TEXT NOT NULL,
                size_bytes  INTEGER NOT NULL,
                config_json TEXT NOT NULL DEFAULT '{}',
                created_at  TEXT NOT NULL
            );

            CREATE TABLE vms (
                id             TEXT PRIMARY KEY,
                name           TEXT NOT NULL UNIQUE,
                state          TEXT NOT NULL
                               CHECK (state IN ('created','starting','running','stopping','stopped','error')),
                vmm            TEXT NOT NULL CHECK (vmm IN ('qemu','firecracker')),
                image_name     TEXT REFERENCES images (name) ON DELETE RESTRICT,
                kernel_name    TEXT REFERENCES kernels (name) ON DELETE RESTRICT,
                cpus           INTEGER NOT NULL CHECK (cpus > 0),
                memory_mib     INTEGER NOT NULL CHECK (memory_mib > 0),
                disk_mib       INTEGER NOT NULL CHECK (disk_mib > 0),
                guest_ip       TEXT UNIQUE,
                mac            TEXT UNIQUE,
                vsock_cid      INTEGER UNIQUE,
                vm_dir         TEXT NOT NULL,
                control_socket TEXT NOT NULL,
                agent_socket   TEXT NOT NULL,
                log_path       TEXT NOT NULL,
                dns_name       TEXT NOT NULL,
                root_disk_path TEXT NOT NULL,
                work_disk_path TEXT NOT NULL,
                last_error     TEXT,
                created_at     TEXT NOT NULL,
                updated_at     TEXT NOT NULL
            );
            CREATE INDEX vms_image ON vms (image_name);
            CREATE INDEX vms_kernel ON vms (kernel_name);
            """), new Migration(2, "kernels.vmlinux_path", """
            -- The ELF unpacked from a bzImage kernel, for Firecracker. NULL for ELF kernels, for payloads
            -- banger cannot unpack, and for rows of schema 1 (re-import such a kernel to get one).
            ALTER TABLE kernels ADD COLUMN vmlinux_path TEXT;
            """), new Migration(3, "default image", """
            ALTER TABLE images ADD COLUMN is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1));
            CREATE UNIQUE INDEX images_single_default ON images (is_default) WHERE is_default = 1;
            UPDATE images SET is_default = 1
                WHERE name = (SELECT name FROM images ORDER BY julianday(created_at), name LIMIT 1);
            """));

    static int latestVersion() {
        return ALL.get(ALL.size() - 1).version();
    }
}
