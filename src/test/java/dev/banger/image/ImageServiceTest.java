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
import dev.banger.model.Vm;
import dev.banger.model.VmState;
import dev.banger.model.VmmKind;
import dev.banger.store.Database;
import dev.banger.store.ImageStore;
import dev.banger.store.VmStore;
import dev.banger.testkit.Ext4Inspector;
import dev.banger.testkit.FakeKernel;
import dev.banger.testkit.OciLayoutBuilder;
import dev.banger.testkit.RecordingCall;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
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

    private TestImages pulling() {
        TestImages layout = new TestImages(tmp.resolve("layout"));
        service = new ImageService(paths, new ImageStore(db), new VmStore(db), new ProcessCommandRunner(),
                Clock.systemUTC(), new PullTestSupport(tmp.resolve("pull")).puller);
        return layout;
    }

    private ImageView pull(String reference, String name, boolean force, RecordingCall call) {
        return service.pull(new ImagePullRequest(reference, name, false, force, null), call);
    }

    /** Points the layout's tag at another manifest, as a push of a new image under the tag would. */
    private static void moveTag(TestImages layout, String tag, OciLayoutBuilder.Blob to) {
        layout.builder.tag(tag, to);
    }

    private void vmUsing(String image, String vmName) {
        Path d = tmp.resolve("vms").resolve(vmName);
        Instant t = Instant.now();
        new VmStore(db).insert(new Vm("id-" + vmName, vmName, VmState.STOPPED, VmmKind.QEMU, image, null, 1, 256,
                64, null, null, 0, d, d.resolve("c.sock"), d.resolve("a.sock"), d.resolve("console.log"),
                vmName + ".vm", d.resolve("root.qcow2"), d.resolve("work.ext4"), null, t, t));
    }

    @Test
    void pull_ofAReferenceAlreadyHere_withTheSameDigest_isUpToDate_andBuildsNothing() throws IOException {
        TestImages layout = pulling();
        String reference = "oci-layout:" + layout.layout + ":v1";
        ImageView first = pull(reference, "tools", false, new RecordingCall());
        Path rootfs = Path.of(first.rootfsPath());
        var modified = Files.getLastModifiedTime(rootfs);

        RecordingCall again = new RecordingCall();
        ImageView second = pull(reference, "tools", false, again);

        assertThat(second).isEqualTo(first);
        assertThat(again.progressDetails()).contains("image 'tools' is up to date (" + first.digest() + ")");
        assertThat(again.progressDetails()).noneMatch(d -> d.startsWith("applying layer"));
        assertThat(Files.getLastModifiedTime(rootfs)).isEqualTo(modified);
    }

    @Test
    void pull_afterTheTagMoved_updatesTheImage_inPlace_andItStaysTheDefault() throws IOException {
        TestImages layout = pulling();
        String reference = "oci-layout:" + layout.layout + ":v1";
        ImageView before = pull(reference, "tools", false, new RecordingCall());
        register("busybox");
        assertThat(new Ext4Inspector(Path.of(before.rootfsPath())).exists("/etc/derived")).isFalse();
        moveTag(layout, "v1", layout.derived);

        RecordingCall call = new RecordingCall();
        ImageView after = pull(reference, "tools", false, call);

        assertThat(after.digest()).isEqualTo(layout.derived.digest()).isNotEqualTo(before.digest());
        assertThat(after.source()).isEqualTo(before.source());
        assertThat(after.isDefault()).as("the default stays the default").isTrue();
        assertThat(call.progressDetails()).anyMatch(d -> d.contains("moved from " + before.digest() + " to "
                + layout.derived.digest()));
        assertThat(new Ext4Inspector(Path.of(after.rootfsPath())).cat("/etc/derived")).isEqualTo("derived\n");
        assertThat(service.show("tools").digest()).isEqualTo(layout.derived.digest());
        assertThat(PullTestSupport.filesUnder(paths.imagesDir())).as("no staging or previous files left")
                .containsExactlyInAnyOrder("tools/rootfs.ext4", "busybox/rootfs.ext4");
    }

    @Test
    void pull_afterTheTagMoved_isRefusedWhileVmsUseTheImage_andLeavesItAsItWas() throws IOException {
        TestImages layout = pulling();
        String reference = "oci-layout:" + layout.layout + ":v1";
        ImageView before = pull(reference, "tools", false, new RecordingCall());
        vmUsing("tools", "alpha");
        vmUsing("tools", "beta");
        moveTag(layout, "v1", layout.derived);

        assertThatThrownBy(() -> pull(reference, "tools", false, new RecordingCall()))
                .isInstanceOfSatisfying(BangerException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT))
                .hasMessage("image 'tools' is used by VMs alpha, beta; delete them before replacing it (the image is "
                        + "unchanged)");
        assertThat(service.show("tools").digest()).isEqualTo(before.digest());
        assertThat(new Ext4Inspector(Path.of(before.rootfsPath())).cat("/etc/arch")).isEqualTo("amd64\n");
        assertThat(PullTestSupport.filesUnder(paths.imagesDir())).containsExactly("tools/rootfs.ext4");
    }

    @Test
    void pullForce_ofTheDefaultImage_keepsTheReplacementTheDefault() throws IOException {
        TestImages layout = pulling();
        String reference = "oci-layout:" + layout.layout + ":v1";
        ImageView first = pull(reference, "tools", false, new RecordingCall());
        register("busybox");
        assertThat(service.defaultImage(null).name()).isEqualTo("tools");

        ImageView replaced = pull("oci-layout:" + layout.layout + ":derived", "tools", true, new RecordingCall());

        assertThat(replaced.isDefault()).isTrue();
        assertThat(replaced.digest()).isEqualTo(layout.derived.digest()).isNotEqualTo(first.digest());
        assertThat(service.resolve(null).name()).isEqualTo("tools");
        assertThat(new Ext4Inspector(Path.of(replaced.rootfsPath())).cat("/etc/derived")).isEqualTo("derived\n");
    }

    @Test
    void pullForce_thatFails_leavesTheOldImageAsItWas() throws IOException {
        TestImages layout = pulling();
        ImageView before = pull("oci-layout:" + layout.layout + ":v1", "tools", false, new RecordingCall());
        long size = Files.size(Path.of(before.rootfsPath()));

        assertThatThrownBy(() -> pull("oci-layout:" + layout.layout + ":no-such-tag", "tools", true,
                new RecordingCall())).isInstanceOf(BangerException.class)
                .hasMessageStartingWith("cannot pull oci-layout:");

        assertThat(service.show("tools")).isEqualTo(before);
        assertThat(Files.size(Path.of(before.rootfsPath()))).isEqualTo(size);
        assertThat(new Ext4Inspector(Path.of(before.rootfsPath())).cat("/etc/arch")).isEqualTo("amd64\n");
        assertThat(PullTestSupport.filesUnder(paths.imagesDir())).containsExactly("tools/rootfs.ext4");
    }

    @Test
    void pullForce_isRefusedWhileAVmUsesTheImage_beforeFetchingAnything() throws IOException {
        TestImages layout = pulling();
        ImageView before = pull("oci-layout:" + layout.layout + ":v1", "tools", false, new RecordingCall());
        vmUsing("tools", "alpha");
        RecordingCall call = new RecordingCall();

        assertThatThrownBy(() -> pull("oci-layout:" + layout.layout + ":derived", "tools", true, call))
                .hasMessageContaining("used by VMs alpha");

        assertThat(call.progressDetails()).noneMatch(d -> d.startsWith("resolving"));
        ImageView after = service.show("tools");
        assertThat(after.digest()).isEqualTo(before.digest());
        assertThat(after.createdAt()).isEqualTo(before.createdAt());
        assertThat(after.usedBy()).containsExactly("alpha");
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
