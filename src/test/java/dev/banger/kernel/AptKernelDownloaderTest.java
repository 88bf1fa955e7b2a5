package dev.banger.kernel;

import dev.banger.model.KernelSource;
import dev.banger.model.KernelArtifacts;
import dev.banger.host.Executables;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.testkit.TestAssets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AptKernelDownloaderTest {

    @TempDir
    Path tmp;

    @Test
    void withoutAptTheErrorSaysToImportInstead() {
        AptKernelDownloader downloader = new AptKernelDownloader(TestAssets.runner(), new Executables("/nonexistent"));

        assertThatThrownBy(() -> downloader.download(AptKernelDownloader.DEBIAN_CLOUD, tmp, ProgressListener.NONE))
                .isInstanceOf(KernelFetchException.class)
                .hasMessageStartingWith("apt-cache not found")
                .hasMessageContaining("banger kernel import")
                .hasMessageNotContaining("\n");
    }

    @Test
    void anUnknownPackageIsAOneLineError() {
        AptKernelDownloader downloader = new AptKernelDownloader(TestAssets.runner());

        assertThatThrownBy(() -> downloader.resolve("linux-image-banger-no-such-flavour"))
                .isInstanceOf(KernelFetchException.class)
                .hasMessageContaining("apt does not know the package linux-image-banger-no-such-flavour")
                .hasMessageContaining("apt-get update")
                .hasMessageNotContaining("\n");
    }

    @Test
    void theCloudMetaPackageNamesAConcreteKernel() {
        String concrete = new AptKernelDownloader(TestAssets.runner()).resolve(AptKernelDownloader.DEBIAN_CLOUD);
        assertThat(concrete).matches("linux-image-[0-9][^ ]*-cloud-amd64");
    }

    @Test
    void pullDownloadsImportsAndReportsProgress() {
        java.util.List<KernelProgress> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        KernelArtifacts k = new KernelImporter(TestAssets.runner()).pullDebianCloud(tmp.resolve("k"), events::add);

        assertThat(k.source().kind()).isEqualTo(KernelSource.Kind.APT);
        assertThat(k.source().reference()).startsWith("linux-image-" + k.version() + " ");
        assertThat(k.modules()).contains("virtio_blk");
        assertThat(events).filteredOn(e -> e.stage() == KernelProgress.Stage.DOWNLOAD).last()
                .satisfies(e -> {
                    assertThat(e.bytes()).isPositive();
                    assertThat(e.totalBytes()).isEqualTo(e.bytes());
                });
        assertThat(events).last().extracting(KernelProgress::stage).isEqualTo(KernelProgress.Stage.DONE);
        assertThat(tmp.toFile().list()).containsExactly("k");
    }
}
