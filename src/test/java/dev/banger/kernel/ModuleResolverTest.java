package dev.banger.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.testkit.TestAssets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModuleResolverTest {

    @TempDir
    Path dir;

    private ModuleIndex index(String modulesDep, String builtin) throws IOException {
        Files.writeString(dir.resolve("modules.dep"), modulesDep);
        Files.writeString(dir.resolve("modules.builtin"), builtin);
        return ModuleIndex.load(dir, new ModuleDecompressor(TestAssets.runner()));
    }

    private static List<String> names(List<KernelModule> modules) {
        return modules.stream().map(KernelModule::name).toList();
    }

    @Test
    void dependenciesComeFirstAndCompressedNamesAreUnderstood() throws IOException {
        ModuleIndex index = index(String.join("\n",
                "kernel/drivers/block/virtio_blk.ko.xz: kernel/drivers/virtio/virtio.ko.xz "
                        + "kernel/drivers/virtio/virtio_ring.ko.xz",
                "kernel/drivers/virtio/virtio.ko.xz: kernel/drivers/virtio/virtio_ring.ko.xz",
                "kernel/drivers/virtio/virtio_ring.ko.xz:",
                "kernel/net/core/failover.ko.zst:",
                "kernel/drivers/net/net-failover.ko.zst: kernel/net/core/failover.ko.zst",
                "kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net-failover.ko.zst "
                        + "kernel/drivers/virtio/virtio.ko.xz kernel/drivers/virtio/virtio_ring.ko.xz",
                ""), "");

        List<KernelModule> order = new ModuleResolver().resolve(index, List.of("virtio_blk", "virtio-net"));

        assertThat(names(order)).containsExactly("virtio_ring", "virtio", "virtio_blk", "failover", "net_failover",
                "virtio_net");
        assertThat(order.get(4).path()).isEqualTo("kernel/drivers/net/net-failover.ko.zst");
        assertThat(order.get(4).uncompressedPath()).isEqualTo("kernel/drivers/net/net-failover.ko");
    }

    @Test
    void builtInModulesAreSkipped() throws IOException {
        ModuleIndex index = index("kernel/drivers/char/virtio_console.ko: kernel/drivers/virtio/virtio.ko\n"
                + "kernel/drivers/virtio/virtio.ko:\n", "kernel/drivers/block/virtio_blk.ko\n");

        List<KernelModule> order = new ModuleResolver().resolve(index, List.of("virtio_blk", "virtio_console"));

        assertThat(names(order)).containsExactly("virtio", "virtio_console");
    }

    @Test
    void aWantedModuleThatIsNowhereIsAnErrorNamingIt() throws IOException {
        ModuleIndex index = index("kernel/drivers/virtio/virtio.ko:\n", "kernel/fs/ext4/ext4.ko\n");

        assertThatThrownBy(() -> new ModuleResolver().resolve(index, List.of("virtio", "vmw_vsock_virtio_transport")))
                .isInstanceOf(MissingModuleException.class)
                .hasMessageContaining("kernel module vmw_vsock_virtio_transport is needed")
                .hasMessageContaining("CONFIG_VIRTIO_VSOCKETS")
                .extracting(e -> ((MissingModuleException) e).module()).isEqualTo("vmw_vsock_virtio_transport");
    }

    @Test
    void aMissingDependencyNamesWhoNeedsIt() throws IOException {
        ModuleIndex index = index("kernel/a.ko: kernel/b.ko\n", "");

        assertThatThrownBy(() -> new ModuleResolver().resolve(index, List.of("a")))
                .isInstanceOf(MissingModuleException.class)
                .hasMessageContaining("kernel module b (a dependency of a) is missing");
    }

    @Test
    void aDependencyCycleIsReported() throws IOException {
        ModuleIndex index = index("kernel/a.ko: kernel/b.ko\nkernel/b.ko: kernel/a.ko\n", "");

        assertThatThrownBy(() -> new ModuleResolver().resolve(index, List.of("a")))
                .isInstanceOf(KernelException.class).hasMessageContaining("dependency cycle");
    }
}
