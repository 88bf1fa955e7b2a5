package dev.banger.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.api.BangerException;
import dev.banger.api.KernelPullRequest;
import dev.banger.api.KernelView;
import dev.banger.config.BangerPaths;
import dev.banger.host.Executables;
import dev.banger.rpc.Call;
import dev.banger.store.Database;
import dev.banger.store.KernelStore;
import dev.banger.store.VmStore;
import dev.banger.testkit.RecordingCall;
import dev.banger.testkit.TestAssets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kernel pull} against a downloader that hands out Debian's real cloud kernel .deb (from the test cache)
 * and counts downloads, so pulling twice costs the mirror nothing.
 */
class KernelServiceTest {

    @TempDir
    Path home;

    private Database db;
    private KernelService service;
    private final CountingDownloader downloader = new CountingDownloader();

    @BeforeEach
    void setUp() {
        BangerPaths paths = new BangerPaths(home.resolve("state"), home.resolve("config"), home.resolve("run"));
        db = Database.openReadWrite(home.resolve("banger.db"));
        KernelImporter importer = new KernelImporter(TestAssets.runner(), Executables.fromEnvironment(),
                ModuleResolver.GUEST_MODULES, downloader);
        service = new KernelService(paths, new KernelStore(db), new VmStore(db), importer, Clock.systemUTC());
    }

    @AfterEach
    void tearDown() {
        db.close();
    }

    @Test
    void pullingTheKernelWeAlreadyHaveDownloadsNothingAndSaysSo() throws IOException {
        KernelView first = service.pull(new KernelPullRequest(null, false), Call.detached());
        RecordingCall call = new RecordingCall();

        KernelView second = service.pull(new KernelPullRequest(null, false), call);

        assertThat(downloader.downloads).as("one download for two pulls").hasValue(1);
        assertThat(second.name()).isEqualTo(first.name());
        assertThat(second.vmlinuxPath()).isNotNull();
        assertThat(call.progressDetails()).contains("already have " + downloader.pkg.release() + " (kernel '"
                + first.name() + "')");
        assertThat(call.progressDetails()).noneMatch(m -> m.startsWith("downloading") || m.startsWith("building"));
        assertThat(service.list().kernels()).hasSize(1);
        try (var files = Files.list(home.resolve("state/kernels"))) {
            assertThat(files).as("no staging left").containsExactly(home.resolve("state/kernels/" + first.name()));
        }
    }

    @Test
    void aNamedPullOfTheSameKernelIsANoOpAndMayMakeItTheDefault() {
        service.importKernel(new dev.banger.api.KernelImportRequest("other", null, null,
                TestAssets.debianCloudKernelDeb().toString(), false), Call.detached());
        service.pull(new KernelPullRequest("mine", false), Call.detached());

        KernelView again = service.pull(new KernelPullRequest("mine", true), Call.detached());

        assertThat(downloader.downloads).hasValue(1);
        assertThat(again.isDefault()).isTrue();
    }

    @Test
    void aNameHoldingAnotherReleaseIsRefusedBeforeDownloading() {
        downloader.pkg = new KernelPackage("linux-image-9.9.9-banger-amd64", "9.9.9-1", 1);
        service.importKernel(new dev.banger.api.KernelImportRequest("mine", null, null,
                TestAssets.debianCloudKernelDeb().toString(), false), Call.detached());

        assertThatThrownBy(() -> service.pull(new KernelPullRequest("mine", false), Call.detached()))
                .isInstanceOf(BangerException.class)
                .hasMessageContaining("a kernel named 'mine' already exists with")
                .hasMessageContaining("the newest is 9.9.9-banger-amd64");
        assertThat(downloader.downloads).hasValue(0);
    }

    /** apt as the pull sees it: the package named by the cached .deb, downloaded by copying that file. */
    private static final class CountingDownloader implements KernelDownloader {
        final AtomicInteger downloads = new AtomicInteger();
        KernelPackage pkg;

        CountingDownloader() {
            String file = TestAssets.debianCloudKernelDeb().getFileName().toString();
            String[] parts = file.split("_"); // linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb
            pkg = new KernelPackage(parts[0], parts[1], -1);
        }

        @Override
        public KernelPackage newest(String metaPackage, ProgressListener listener) {
            return pkg;
        }

        @Override
        public Path download(KernelPackage wanted, Path dir, ProgressListener listener) {
            downloads.incrementAndGet();
            listener.progress(KernelProgress.of(KernelProgress.Stage.DOWNLOAD, "downloading " + wanted.name()));
            Path deb = TestAssets.debianCloudKernelDeb();
            try {
                return Files.copy(deb, dir.resolve(deb.getFileName()));
            } catch (IOException e) {
                throw new KernelFetchException(e.toString(), e);
            }
        }
    }
}
