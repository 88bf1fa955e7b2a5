package dev.banger.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.api.BangerException;
import dev.banger.api.ErrorCode;
import dev.banger.api.ImagePullRequest;
import dev.banger.api.ImageView;
import dev.banger.config.BangerPaths;
import dev.banger.model.Vm;
import dev.banger.model.VmState;
import dev.banger.model.VmmKind;
import dev.banger.store.Database;
import dev.banger.store.ImageStore;
import dev.banger.store.VmStore;
import dev.banger.testkit.Ext4Inspector;
import dev.banger.testkit.RecordingCall;
import dev.banger.testkit.RegistryFixture;
import dev.banger.testkit.TestAssets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code image pull} of a tag that moved on a real registry (docker-registry on 127.0.0.1, pushed with skopeo):
 * the same digest is up to date, a new one updates the image, refused while a VM uses it.
 */
class ImagePullUpdateTest {

    @TempDir
    Path tmp;

    private RegistryFixture registry;
    private TestImages layout;
    private Database db;
    private ImageService service;
    private String reference;

    @BeforeEach
    void setUp() throws IOException {
        layout = new TestImages(tmp.resolve("layout"));
        registry = RegistryFixture.start();
        registry.push(layout.layout, "v1", "test/moving");
        reference = registry.host() + "/test/moving:v1";
        BangerPaths paths = new BangerPaths(tmp.resolve("state"), tmp.resolve("config"), tmp.resolve("run"));
        Files.createDirectories(paths.imagesDir());
        db = Database.openReadWrite(paths.database());
        service = new ImageService(paths, new ImageStore(db), new VmStore(db), TestAssets.runner(),
                Clock.systemUTC(), new PullTestSupport(tmp.resolve("pull")).puller);
    }

    @AfterEach
    void tearDown() {
        try {
            db.close();
        } finally {
            registry.close();
        }
    }

    private ImageView pull(RecordingCall call) {
        return service.pull(new ImagePullRequest(reference, "moving", false, false, null), call);
    }

    /** Pushes another image under the tag, as a release would. */
    private void moveTagTo(dev.banger.testkit.OciLayoutBuilder.Blob image) {
        layout.builder.tag("v1", image);
        registry.push(layout.layout, "v1", "test/moving");
    }

    @Test
    void aTagThatMovedOnTheRegistry_updatesTheImage_andTheSameDigestIsUpToDate() {
        ImageView first = pull(new RecordingCall());
        long layerGets = registry.blobGets("test/moving", layout.top.digest());
        RecordingCall again = new RecordingCall();
        assertThat(pull(again)).isEqualTo(first);
        assertThat(again.progressDetails()).contains("image 'moving' is up to date (" + first.digest() + ")");
        assertThat(registry.blobGets("test/moving", layout.top.digest())).as("nothing fetched").isEqualTo(layerGets);

        moveTagTo(layout.derived);
        RecordingCall update = new RecordingCall();
        ImageView updated = pull(update);

        assertThat(updated.digest()).isNotEqualTo(first.digest());
        assertThat(update.progressDetails()).anyMatch(d -> d.equals(reference + " moved from " + first.digest()
                + " to " + updated.digest() + ": updating image 'moving'"));
        Ext4Inspector disk = new Ext4Inspector(Path.of(updated.rootfsPath()));
        assertThat(disk.cat("/etc/derived")).isEqualTo("derived\n");
        assertThat(disk.exists("/home/user/owned")).as("the old top layer is gone").isFalse();
        assertThat(service.show("moving").digest()).isEqualTo(updated.digest());
    }

    @Test
    void aTagThatMoved_isNotTakenWhileAVmUsesTheImage() {
        ImageView first = pull(new RecordingCall());
        Path d = tmp.resolve("vms/user");
        Instant t = Instant.now();
        new VmStore(db).insert(new Vm("id-user", "user", VmState.RUNNING, VmmKind.QEMU, "moving", null, 1, 256, 64,
                null, null, 0, d, d.resolve("c.sock"), d.resolve("a.sock"), d.resolve("console.log"), "user.vm",
                d.resolve("root.qcow2"), d.resolve("work.ext4"), null, t, t));
        moveTagTo(layout.derived);

        assertThatThrownBy(() -> pull(new RecordingCall())).isInstanceOfSatisfying(BangerException.class, e ->
                assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT)).hasMessage("image 'moving' is used by VMs user; "
                        + "delete them before replacing it (the image is unchanged)");

        assertThat(service.show("moving").digest()).isEqualTo(first.digest());
        assertThat(new Ext4Inspector(Path.of(first.rootfsPath())).cat("/home/user/owned")).isEqualTo("mine\n");
    }
}
