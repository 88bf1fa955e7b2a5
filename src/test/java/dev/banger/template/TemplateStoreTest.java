package dev.banger.template;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.host.ProcessCommandRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TemplateStoreTest {

    @TempDir
    Path dir;

    private static TemplateKey key(String rootfs, int memoryMib) {
        return new TemplateKey("qemu", "sha256:q accel=tcg", "busybox", rootfs, "cloud", "sha256:k", "sha256:i", 1,
                memoryMib, 64);
    }

    @Test
    void everyInputChangesTheIdAndTheSlotIgnoresContents() {
        TemplateKey base = key("sha256:a", 256);
        assertThat(base.id()).hasSize(64).isEqualTo(key("sha256:a", 256).id());
        assertThat(key("sha256:b", 256).id()).as("new image contents").isNotEqualTo(base.id());
        assertThat(key("sha256:a", 512).id()).as("new memory size").isNotEqualTo(base.id());
        assertThat(key("sha256:b", 256).slot()).as("same image name and sizes").isEqualTo(base.slot());
        assertThat(key("sha256:a", 512).slot()).isNotEqualTo(base.slot());
    }

    @Test
    void aBuildIsInvisibleUntilPublishedThenWholeAndReadOnly() throws Exception {
        TemplateStore store = new TemplateStore(dir.resolve("templates"), new ProcessCommandRunner());
        TemplateKey key = key("sha256:a", 256);
        Path build = store.beginBuild(key);
        for (String f : List.of(Template.MEMORY, Template.DEVICE_STATE, Template.QCOW2_ROOT_DISK, Template.KERNEL,
                Template.INITRD)) {
            Files.writeString(build.resolve(f), f);
        }
        assertThat(store.list()).isEmpty();
        assertThat(store.find(key.id())).isEmpty();

        Template published = store.publish(build, new Template(key, Template.QCOW2_ROOT_DISK, "console=ttyS0", "2026-12-02T09:00:00Z", 3000,
                50, build));
        assertThat(published.dir()).isEqualTo(dir.resolve("templates").resolve(key.id()));
        assertThat(store.find(key.id())).get().extracting(Template::kernelCmdline).isEqualTo("console=ttyS0");
        assertThat(store.list()).extracting(Template::id).containsExactly(key.id());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(published.memory())))
                .isEqualTo("r--r-----");
        assertThat(store.diskUse(published)).isPositive();

        Files.delete(published.deviceState());
        assertThat(store.find(key.id())).as("a template missing a file is not offered").isEmpty();
    }

    @Test
    void theRootDiskFileIsRecordedAndARecordWithoutOneMeansTheQcow2Overlay() throws Exception {
        TemplateStore store = new TemplateStore(dir.resolve("templates"), new ProcessCommandRunner());
        TemplateKey firecracker = new TemplateKey("firecracker", "sha256:f ", "busybox", "sha256:a", "fc",
                "sha256:k", "sha256:i", 1, 256, 64);
        Path build = store.beginBuild(firecracker);
        for (String f : List.of(Template.MEMORY, Template.DEVICE_STATE, "root.img", Template.KERNEL,
                Template.INITRD)) {
            Files.writeString(build.resolve(f), f);
        }
        Template raw = store.publish(build, new Template(firecracker, "root.img", "console=ttyS0",
                "2026-12-02T09:00:00Z", 3000, 50, build));
        assertThat(store.find(firecracker.id())).get().extracting(Template::rootDisk)
                .isEqualTo(raw.dir().resolve("root.img"));
        assertThat(Files.readString(raw.dir().resolve(Template.RECORD))).contains("\"rootDiskFile\": \"root.img\"");

        TemplateKey qemu = key("sha256:a", 256);
        Path old = Files.createDirectories(dir.resolve("templates").resolve(qemu.id()));
        for (String f : List.of(Template.MEMORY, Template.DEVICE_STATE, "root.qcow2", Template.KERNEL,
                Template.INITRD)) {
            Files.writeString(old.resolve(f), f);
        }
        Files.writeString(old.resolve(Template.RECORD), dev.banger.json.Json.writePretty(new TemplateStore.Stored(
                qemu, null, "console=ttyS0", "2026-12-01T09:00:00Z", 3000, 50)));
        assertThat(Files.readString(old.resolve(Template.RECORD))).doesNotContain("rootDiskFile");
        assertThat(store.find(qemu.id())).get().extracting(Template::rootDisk).isEqualTo(old.resolve("root.qcow2"));
    }

    @Test
    void unfinishedBuildsAndDeletionsAreClearedAtStartUp() throws Exception {
        TemplateStore store = new TemplateStore(dir.resolve("templates"), new ProcessCommandRunner());
        Path build = store.beginBuild(key("sha256:a", 256));
        Files.writeString(build.resolve(Template.MEMORY), "half");
        Files.createDirectories(dir.resolve("templates/.deleting-x"));
        assertThat(store.removeUnfinished()).hasSize(2);
        try (var left = Files.list(dir.resolve("templates"))) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void digestsAreRememberedByIdentityAndRecomputedWhenTheFileChanges() throws Exception {
        Path file = dir.resolve("rootfs.ext4");
        Files.writeString(file, "one");
        FileDigests digests = new FileDigests(dir.resolve("digests.json"));
        assertThat(digests.known(file)).as("not read yet").isEmpty();
        String first = digests.digest(file);
        assertThat(first).isEqualTo(FileDigests.compute(file)).startsWith("sha256-sparse:");
        assertThat(digests.known(file)).contains(first);
        assertThat(new FileDigests(dir.resolve("digests.json")).digest(file)).as("read back from the cache file")
                .isEqualTo(first);
        Files.writeString(file, "two");
        assertThat(digests.digest(file)).isNotEqualTo(first).isEqualTo(FileDigests.compute(file));
        assertThat(digests.known(file)).as("remembered for the new contents only").contains(digests.digest(file));
    }

    /**
     * Blocks of zeros are hashed as one byte each (an ext4 image is mostly unused blocks), yet the digest is one
     * value per content: a hole and written zeros give the same, a byte anywhere or a longer run of zeros another.
     */
    @Test
    void theSparseDigestIsOneValuePerContent() throws Exception {
        int block = FileDigests.BLOCK;
        Path holes = dir.resolve("holes.img");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(holes.toFile(), "rw")) {
            f.setLength(5L * block + 123); // a hole, then data in the third block
            f.seek(2L * block + 7);
            f.write(new byte[] {1, 2, 3});
        }
        byte[] written = new byte[5 * block + 123];
        written[2 * block + 7] = 1;
        written[2 * block + 8] = 2;
        written[2 * block + 9] = 3;
        Path zeros = Files.write(dir.resolve("zeros.img"), written);
        written[4 * block + 100] = 9; // in the last, short block
        Path other = Files.write(dir.resolve("other.img"), written);
        Path longer = Files.write(dir.resolve("longer.img"), java.util.Arrays.copyOf(written, written.length + 1));
        Path empty = Files.write(dir.resolve("empty.img"), new byte[0]);
        Path oneZero = Files.write(dir.resolve("zero.img"), new byte[1]);

        assertThat(FileDigests.compute(holes)).isEqualTo(FileDigests.compute(zeros));
        assertThat(List.of(FileDigests.compute(zeros), FileDigests.compute(other), FileDigests.compute(longer),
                FileDigests.compute(empty), FileDigests.compute(oneZero))).doesNotHaveDuplicates();
    }
}
