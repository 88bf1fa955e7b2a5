package dev.banger.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.json.Json;
import dev.banger.testkit.BangerHome;
import dev.banger.testkit.BangerHome.Result;
import dev.banger.testkit.RegistryFixture;
import dev.banger.testkit.TestAssets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Images through bin/banger: pulled from a real registry (in the test's network namespace, beside the daemon),
 * booted, promoted, deleted.
 */
@Tag("vm")
class ImagePullIT {

    private BangerHome banger;
    private RegistryFixture registry;
    private Path layoutDir;

    @BeforeEach
    void setUp() throws Exception {
        banger = BangerHome.create();
        registry = RegistryFixture.startIn(banger.netns());
        layoutDir = Files.createTempDirectory("banger-oci-");
        TestImages images = new TestImages(layoutDir.resolve("layout"));
        registry.push(images.layout, "v1", "test/img");
        registry.push(images.layout, "derived", "test/img");
        ok(banger.banger("kernel", "import", "cloud", "--deb", TestAssets.debianCloudKernelDeb().toString()));
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            banger.close();
        } finally {
            registry.close();
            TestAssets.deleteTree(layoutDir);
        }
    }

    @Test
    void aPulledImageBootsWithItsOwnersEnvAndWorkingDir() throws Exception {
        Result pull = ok(banger.banger("image", "pull", registry.host() + "/test/img:v1"));
        assertThat(pull.stdout()).startsWith("img-v1 sha256:");
        assertThat(pull.stderr()).contains("layer 1/2", "layer 2/2", "image ready");
        Map<?, ?> image = json(ok(banger.banger("image", "show", "img-v1", "--json")));
        assertThat(image.get("source")).isEqualTo(registry.host() + "/test/img:v1");

        ok(banger.banger("vm", "create", "--image", "img-v1", "--memory", "256M", "--disk", "64M", "pulled"));
        assertThat(ok(banger.banger("vm", "exec", "pulled", "--", "busybox", "stat", "-c", "%u:%g %a",
                "/home/user/owned")).stdout()).as("owner from the layer, inside the guest").isEqualTo("1000:1000 640\n");
        assertThat(ok(banger.banger("vm", "exec", "pulled", "--", "sh", "-c", "echo \"$GREETING\"; pwd")).stdout())
                .as("the image's Env and WorkingDir").isEqualTo("hello world\n/home/user\n");
        assertThat(banger.banger("vm", "exec", "pulled", "--", "busybox", "test", "-e", "/etc/removed").exitCode())
                .as("whited out by the top layer").isEqualTo(1);
    }

    @Test
    void aSecondPullSharingTheBaseLayerFetchesOnlyTheNewLayer() {
        ok(banger.banger("image", "pull", registry.host() + "/test/img:v1"));

        Result second = ok(banger.banger("image", "pull", "--name", "derived", registry.host() + "/test/img:derived"));

        assertThat(second.stderr()).containsPattern("layer 1/2 \\S+ already present");
        assertThat(second.stderr()).containsPattern("layer 2/2 \\S+ fetched");
    }

    @Test
    void imagesInUseCannotBeDeletedAndNamesAreNotOverwritten() {
        ok(banger.banger("image", "pull", registry.host() + "/test/img:v1"));
        ok(banger.banger("vm", "create", "--no-start", "--image", "img-v1", "--disk", "64M", "user"));

        Result again = banger.banger("image", "pull", registry.host() + "/test/img:v1");
        assertThat(again.exitCode()).as("pulling the same reference again is a no-op").isZero();
        Result other = banger.banger("image", "pull", "--name", "img-v1", registry.host() + "/test/img:derived");
        assertThat(other.exitCode()).isEqualTo(1);
        assertThat(other.stderr()).contains("an image named 'img-v1' already exists");

        Result delete = banger.banger("image", "delete", "img-v1");
        assertThat(delete.exitCode()).isEqualTo(1);
        assertThat(delete.stderr()).contains("image 'img-v1' is used by VMs user");

        ok(banger.banger("vm", "delete", "user"));
        ok(banger.banger("image", "delete", "img-v1"));
        assertThat(banger.stateDir().resolve("images/img-v1")).doesNotExist();
    }

    @Test
    void concurrentPullsOfOneReferenceMakeOneImageWithoutError() throws Exception {
        List<CompletableFuture<Result>> pulls = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            pulls.add(CompletableFuture.supplyAsync(() ->
                    banger.banger("image", "pull", registry.host() + "/test/img:v1")));
        }
        for (CompletableFuture<Result> pull : pulls) {
            ok(pull.get(120, TimeUnit.SECONDS));
        }
        assertThat((List<?>) json(ok(banger.banger("image", "list", "--json"))).get("images")).hasSize(1);
        try (Stream<Path> dirs = Files.list(banger.stateDir().resolve("images"))) {
            assertThat(dirs.map(p -> p.getFileName().toString())).as("no staging left").containsExactly("img-v1");
        }
    }

    @Test
    void pullAndDeleteOfOneNameAreSerialised() throws Exception {
        ok(banger.banger("image", "pull", registry.host() + "/test/img:v1"));
        for (int round = 0; round < 3; round++) {
            CompletableFuture<Result> delete = CompletableFuture.supplyAsync(() ->
                    banger.banger("image", "delete", "img-v1"));
            CompletableFuture<Result> pull = CompletableFuture.supplyAsync(() ->
                    banger.banger("image", "pull", "--name", "img-v1", registry.host() + "/test/img:v1"));
            Result deleted = delete.get(120, TimeUnit.SECONDS);
            ok(pull.get(120, TimeUnit.SECONDS));
            assertThat(deleted.exitCode() == 0 || deleted.stderr().contains("no such image: img-v1"))
                    .as(deleted.output()).isTrue();
            // Whichever ran first, the record and the files agree: listed with its disk, or gone entirely.
            boolean listed = ((List<?>) json(ok(banger.banger("image", "list", "--json"))).get("images")).size() == 1;
            Path rootfs = banger.stateDir().resolve("images/img-v1/rootfs.ext4");
            assertThat(Files.exists(rootfs)).as("round %d: files match the record", round).isEqualTo(listed);
            if (!listed) {
                ok(banger.banger("image", "pull", registry.host() + "/test/img:v1"));
            }
        }
        try (Stream<Path> dirs = Files.list(banger.stateDir().resolve("images"))) {
            assertThat(dirs.map(p -> p.getFileName().toString())).as("no staging left").containsExactly("img-v1");
        }
    }

    @Test
    void promoteCapturesAStoppedVmsDisk() throws Exception {
        ok(banger.banger("image", "pull", registry.host() + "/test/img:v1"));
        ok(banger.banger("vm", "create", "--image", "img-v1", "--memory", "256M", "--disk", "64M", "builder"));
        ok(banger.banger("vm", "exec", "builder", "--", "sh", "-c", "echo baked > /etc/baked"));
        Result running = banger.banger("image", "promote", "builder", "--name", "baked");
        assertThat(running.stderr()).contains("is running; stop it before promoting");
        ok(banger.banger("vm", "stop", "builder"));

        ok(banger.banger("image", "promote", "builder", "--name", "baked"));
        ok(banger.banger("vm", "create", "--image", "baked", "--memory", "256M", "--disk", "64M", "child"));

        assertThat(ok(banger.banger("vm", "exec", "child", "--", "busybox", "cat", "/etc/baked")).stdout())
                .isEqualTo("baked\n");
        assertThat(ok(banger.banger("vm", "exec", "child", "--", "sh", "-c", "echo $GREETING")).stdout())
                .as("the promoted image keeps its config").isEqualTo("hello world\n");
    }

    private static Result ok(Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result;
    }

    private static Map<?, ?> json(Result result) {
        return (Map<?, ?>) Json.parseTree(result.stdout());
    }
}
