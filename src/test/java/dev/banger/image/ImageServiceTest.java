package dev.banger.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.api.BangerException;
import dev.banger.api.ErrorCode;
import dev.banger.api.ImagePullRequest;
import dev.banger.api.ImageRegisterRequest;
import dev.banger.api.ImageView;
import dev.banger.config.BangerPaths;
import dev.banger.host.ProcessCommandRunner;
import dev.banger.rpc.Call;
import dev.banger.store.Database;
import dev.banger.store.ImageStore;
import dev.banger.store.VmStore;
import dev.banger.testkit.FakeKernel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Images and the default image, over a real store and real ext4 files (registered with cp). */
class ImageServiceTest {

    @TempDir
    Path tmp;

    private BangerPaths paths;
    private Database db;
    private ImageService service;

    @BeforeEach
    void setUp() throws IOException {
        paths = new BangerPaths(tmp.resolve("state"), tmp.resolve("config"), tmp.resolve("run"));
        Files.createDirectories(paths.imagesDir());
        db = Database.openReadWrite(paths.database());
        service = new ImageService(paths, new ImageStore(db), new VmStore(db), new ProcessCommandRunner(),
                Clock.systemUTC(), null);
    }

    @AfterEach
    void tearDown() {
        db.close();
    }

    private void register(String name) throws IOException {
        Path rootfs = FakeKernel.writeRootfs(tmp.resolve(name + ".ext4"));
        service.register(new ImageRegisterRequest(name, rootfs.toString()), Call.detached());
    }

    @Test
    void resolve_theFirstImageStaysTheDefault_whenASecondIsRegistered() throws IOException {
        register("debian-bookworm");
        register("busybox");

        assertThat(service.resolve(null).name()).isEqualTo("debian-bookworm");
    }

    @Test
    void defaultImage_showsTheDefault_andSetsAnother_effectiveAtOnce() throws IOException {
        register("debian-bookworm");
        register("busybox");
        assertThat(service.defaultImage(null).name()).isEqualTo("debian-bookworm");

        ImageView set = service.defaultImage("busybox");

        assertThat(set.name()).isEqualTo("busybox");
        assertThat(set.isDefault()).isTrue();
        assertThat(service.resolve(null).name()).as("the next vm create uses it").isEqualTo("busybox");
        assertThat(service.list().images()).filteredOn(ImageView::isDefault).extracting(ImageView::name)
                .containsExactly("busybox");
        assertThat(service.show("debian-bookworm").isDefault()).isFalse();
    }

    @Test
    void defaultImage_ofAnUnknownName_isNotFound_andChangesNothing() throws IOException {
        register("debian-bookworm");

        assertThatThrownBy(() -> service.defaultImage("nope")).isInstanceOfSatisfying(BangerException.class, e ->
                assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND)).hasMessage("no such image: nope; see: banger "
                        + "image list");
        assertThat(service.defaultImage(null).name()).isEqualTo("debian-bookworm");
    }

    @Test
    void defaultImage_withNoImage_saysHowToGetOne() {
        assertThatThrownBy(() -> service.defaultImage(null)).isInstanceOf(BangerException.class)
                .hasMessageContaining("there is no image yet").hasMessageContaining("banger image register");
        assertThatThrownBy(() -> service.resolve(null)).hasMessageStartingWith("no image to boot");
    }

    @Test
    void delete_ofTheDefault_handsItToTheOldestImageLeft() throws IOException {
        register("debian-bookworm");
        register("busybox");
        register("alpine");
        service.defaultImage("alpine");

        service.delete("alpine");

        assertThat(service.resolve(null).name()).isEqualTo("debian-bookworm");
    }

    @Test
    void pullForce_ofTheDefaultImage_keepsTheReplacementTheDefault() throws IOException {
        TestImages layout = new TestImages(tmp.resolve("layout"));
        service = new ImageService(paths, new ImageStore(db), new VmStore(db), new ProcessCommandRunner(),
                Clock.systemUTC(), new PullTestSupport(tmp.resolve("pull")).puller);
        String reference = "oci-layout:" + layout.layout + ":v1";
        service.pull(new ImagePullRequest(reference, "tools", false, false, null), Call.detached());
        register("busybox");
        assertThat(service.defaultImage(null).name()).isEqualTo("tools");

        ImageView replaced = service.pull(new ImagePullRequest(reference, "tools", false, true, null), Call.detached());

        assertThat(replaced.isDefault()).isTrue();
        assertThat(service.resolve(null).name()).isEqualTo("tools");
    }

    @Test
    void pull_ofALayoutMissingALayerBlob_namesTheBlobOnce() throws IOException {
        TestImages layout = new TestImages(tmp.resolve("layout"));
        Files.delete(layout.layout.resolve("blobs/sha256").resolve(layout.top.digest().substring("sha256:".length())));
        service = new ImageService(paths, new ImageStore(db), new VmStore(db), new ProcessCommandRunner(),
                Clock.systemUTC(), new PullTestSupport(tmp.resolve("pull")).puller);
        String reference = "oci-layout:" + layout.layout + ":v1";

        assertThatThrownBy(() -> service.pull(new ImagePullRequest(reference, "tools", false, false, null),
                Call.detached())).isInstanceOf(BangerException.class)
                .hasMessage("cannot pull " + reference + ": layer 2/2: blob " + layout.top.digest()
                        + " missing from the layout " + layout.layout);
    }

    @Test
    void register_ofABlockDevice_saysItIsABlockDevice() {
        Path device = Path.of("/dev/loop0");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(device), "no /dev/loop0 on this host");

        assertThatThrownBy(() -> service.register(new ImageRegisterRequest("dev", device.toString()),
                Call.detached())).isInstanceOfSatisfying(BangerException.class, e ->
                assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
                .hasMessage("--rootfs /dev/loop0 is a block device, not a file; copy it to an ext4 file first"
                        + " (e.g. dd if=/dev/loop0 of=rootfs.ext4 conv=sparse) and register that");
    }
}
