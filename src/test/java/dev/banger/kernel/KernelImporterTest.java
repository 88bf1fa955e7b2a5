package dev.banger.kernel;

import dev.banger.model.KernelSource;
import dev.banger.model.KernelFormat;
import dev.banger.model.KernelArtifacts;
import dev.banger.host.Executables;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.host.Command;
import dev.banger.model.VmmKind;
import dev.banger.testkit.FakeKernel;
import dev.banger.testkit.NewcReader;
import dev.banger.testkit.TestAssets;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Imports Debian's real cloud kernel package. */
class KernelImporterTest {

    /** The order the notes measured working on this kernel, as a set: what must be loaded, no more. */
    static final Set<String> EXPECTED_MODULES = Set.of("virtio_ring", "virtio", "virtio_pci_modern_dev",
            "virtio_pci_legacy_dev", "virtio_pci", "virtio_mmio", "failover", "net_failover", "virtio_net",
            "virtio_blk", "virtio_console", "vsock", "vmw_vsock_virtio_transport_common",
            "vmw_vsock_virtio_transport");

    static Path deb;
    static String packageVersion;
    /** One import shared by the tests that only read it. */
    static KernelArtifacts imported;
    /** The package unpacked by dpkg-deb, for the bare-kernel imports; tests must not modify it. */
    static Path unpacked;

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    @BeforeAll
    static void fetch() {
        deb = TestAssets.debianCloudKernelDeb();
        String file = deb.getFileName().toString();            // linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb
        packageVersion = file.substring("linux-image-".length(), file.indexOf('_'));
        imported = TestAssets.debianCloudKernel();
        unpacked = shared.resolve("unpacked");
        TestAssets.runner().run("mkdir", unpacked.toString());
        TestAssets.runner().run("dpkg-deb", "-x", deb.toString(), unpacked.toString());
    }

    private static Path unpackedKernel() {
        return unpacked.resolve("boot/vmlinuz-" + packageVersion);
    }

    private static KernelImporter importer() {
        return new KernelImporter(TestAssets.runner());
    }

    @Test
    void importDebGivesThePackagesKernelAndModules() throws IOException {
        List<KernelProgress> events = new ArrayList<>();
        KernelArtifacts k = importer().importDeb(deb, tmp.resolve("k"), events::add);

        assertThat(k.version()).isEqualTo(packageVersion);
        assertThat(k.format()).isEqualTo(KernelFormat.BZIMAGE);
        assertThat(k.kernel()).isEqualTo(tmp.resolve("k/vmlinuz")).isRegularFile();
        assertThat(k.vmlinux()).as("the ELF Firecracker boots, unpacked from the bzImage")
                .isEqualTo(tmp.resolve("k/vmlinux"));
        assertThat(k.bootImage(VmmKind.FIRECRACKER)).contains(k.vmlinux());
        assertThat(k.bootImage(VmmKind.QEMU)).contains(k.kernel());
        KernelImage elf = new KernelImageInspector().inspect(k.vmlinux());
        assertThat(elf.format()).isEqualTo(KernelFormat.ELF);
        assertThat(elf.version()).as("the ELF's Linux version banner names the bzImage's release")
                .isEqualTo(new KernelImageInspector().inspect(k.kernel()).version()).contains(packageVersion);
        assertThat(k.source().kind()).isEqualTo(KernelSource.Kind.DEB);
        assertThat(k.source().reference()).startsWith("linux-image-" + packageVersion + " ");
        assertThat(k.modules()).containsExactlyInAnyOrderElementsOf(EXPECTED_MODULES);
        // Load order: each module after what it depends on. (Which of virtio and virtio_ring comes first changed
        // between Debian's 6.1 kernel builds, so the order is checked by dependency, not as one fixed list.)
        List<String> order = k.modules();
        for (String[] dependency : new String[][] {{"virtio", "virtio_mmio"}, {"virtio_ring", "virtio_mmio"},
                {"virtio_pci_modern_dev", "virtio_pci"}, {"virtio_pci_legacy_dev", "virtio_pci"},
                {"virtio", "virtio_blk"}, {"failover", "net_failover"}, {"net_failover", "virtio_net"},
                {"virtio", "virtio_console"}, {"vsock", "vmw_vsock_virtio_transport_common"},
                {"vmw_vsock_virtio_transport_common", "vmw_vsock_virtio_transport"}}) {
            assertThat(order.indexOf(dependency[0])).as(dependency[0] + " loads before " + dependency[1])
                    .isLessThan(order.indexOf(dependency[1]));
        }
        assertThat(events).extracting(KernelProgress::stage).contains(KernelProgress.Stage.EXTRACT,
                KernelProgress.Stage.MODULES, KernelProgress.Stage.INITRAMFS, KernelProgress.Stage.DONE);
        try (var files = Files.list(tmp)) {
            assertThat(files).as("no work directories left beside the kernel").containsExactly(tmp.resolve("k"));
        }
    }

    @Test
    void initramfsHoldsExactlyTheModulesAndTheirLoadList() throws IOException {
        KernelArtifacts k = imported;
        String modDir = "lib/modules/" + k.version() + "/";

        List<NewcReader.Entry> entries = NewcReader.readGzip(k.modulesInitramfs());
        List<String> listed = TestAssets.runner().run(Command.of("cpio", "-it", "--quiet")
                .withStdin(gunzip(k.modulesInitramfs()))).stdoutText().lines().toList();

        assertThat(listed).as("the real cpio tool agrees with our reader")
                .containsExactlyElementsOf(entries.stream().map(NewcReader.Entry::name).toList());
        List<String> files = entries.stream().filter(e -> !e.isDirectory()).map(NewcReader.Entry::name).toList();
        List<String> moduleFiles = files.stream().filter(f -> f.startsWith(modDir)).toList();
        assertThat(files).containsExactlyInAnyOrderElementsOf(concat(List.of("dev/console", "etc/banger/modules"),
                moduleFiles));
        assertThat(moduleFiles).hasSize(EXPECTED_MODULES.size()).allMatch(f -> f.endsWith(".ko"));
        assertThat(moduleFiles.stream().map(KernelModule::nameOf).toList()).containsExactlyElementsOf(k.modules());

        String list = entries.stream().filter(e -> e.name().equals("etc/banger/modules")).findFirst().orElseThrow()
                .text();
        assertThat(list.lines().toList()).containsExactlyElementsOf(moduleFiles.stream().map(f -> "/" + f).toList());

        Set<String> seenDirs = new HashSet<>();
        for (NewcReader.Entry e : entries) {
            int slash = e.name().lastIndexOf('/');
            if (slash > 0) {
                assertThat(seenDirs).as("parent of %s comes first", e.name()).contains(e.name().substring(0, slash));
            }
            if (e.isDirectory()) {
                seenDirs.add(e.name());
            }
        }
    }

    @Test
    void loadOrderPutsEveryDependencyFirstAccordingToTheRealModinfo() throws IOException {
        KernelArtifacts k = imported;
        Path out = Files.createDirectory(tmp.resolve("x"));
        TestAssets.runner().run(Command.of("cpio", "-id", "--quiet").withCwd(out)
                .withStdin(gunzip(k.modulesInitramfs())));

        List<String> loaded = new ArrayList<>();
        for (String path : Files.readAllLines(out.resolve("etc/banger/modules"))) {
            Path ko = out.resolve(path.substring(1));
            String depends = TestAssets.runner().run("modinfo", "-F", "depends", ko.toString()).stdoutText().strip();
            for (String dep : depends.isEmpty() ? new String[0] : depends.split(",")) {
                assertThat(loaded).as("%s needs %s loaded before it", KernelModule.nameOf(path), dep)
                        .contains(KernelModule.canonical(dep));
            }
            loaded.add(KernelModule.nameOf(path));
        }
        assertThat(loaded).hasSize(EXPECTED_MODULES.size());
    }

    @Test
    void sameDebGivesByteIdenticalInitramfs() throws IOException {
        KernelArtifacts again = importer().importDeb(deb, tmp.resolve("again"), ProgressListener.NONE);
        assertThat(Files.readAllBytes(again.modulesInitramfs()))
                .isEqualTo(Files.readAllBytes(imported.modulesInitramfs()));
    }

    @Test
    void builtInExtractorGivesTheSameResultAsDpkgDeb() throws IOException {
        KernelImporter javaOnly = new KernelImporter(TestAssets.runner(), new Executables(""),
                ModuleResolver.GUEST_MODULES, null);
        KernelArtifacts viaJava = javaOnly.importDeb(deb, tmp.resolve("j"), ProgressListener.NONE);
        KernelArtifacts viaDpkg = imported;

        assertThat(viaJava.version()).isEqualTo(viaDpkg.version());
        assertThat(Files.readAllBytes(viaJava.kernel())).isEqualTo(Files.readAllBytes(viaDpkg.kernel()));
        assertThat(Files.readAllBytes(viaJava.modulesInitramfs()))
                .isEqualTo(Files.readAllBytes(viaDpkg.modulesInitramfs()));
    }

    @Test
    void importKernelWithDepmodsModulesDepGivesTheSameModules() throws IOException {
        Path root = tmp.resolve("root");
        TestAssets.runner().run("cp", "-al", unpacked.toString(), root.toString()); // hard links: depmod adds files
        TestAssets.runner().run("depmod", "-b", root.toString(), packageVersion);
        Path modulesDir = root.resolve("lib/modules/" + packageVersion);
        assertThat(modulesDir.resolve("modules.dep")).isRegularFile();

        KernelArtifacts fromDeb = imported;
        KernelArtifacts fromFile = importer().importKernel(root.resolve("boot/vmlinuz-" + packageVersion), root,
                tmp.resolve("file"), ProgressListener.NONE);

        assertThat(fromFile.version()).isEqualTo(packageVersion);
        assertThat(fromFile.source().kind()).isEqualTo(KernelSource.Kind.FILE);
        assertThat(fromFile.modules()).as("modules.dep (depmod) and .modinfo give one closure")
                .containsExactlyInAnyOrderElementsOf(fromDeb.modules());
    }

    @Test
    void aModularKernelWithoutModulesIsRefusedWithTheFix() throws IOException {
        assertThatThrownBy(() -> importer().importKernel(unpackedKernel(), null, tmp.resolve("k"),
                ProgressListener.NONE))
                .as("Debian's cloud kernel has virtio as modules and no embedded config")
                .isInstanceOf(KernelException.class)
                .hasMessageContaining("cannot tell whether " + unpackedKernel() + " has virtio block and console "
                        + "built in")
                .hasMessageContaining("CONFIG_IKCONFIG")
                .hasMessageContaining("--modules DIR")
                .hasMessageNotContaining("\n");
        try (var files = Files.list(tmp)) {
            assertThat(files).as("nothing left behind").isEmpty();
        }
    }

    @Test
    void aKernelWhoseEmbeddedConfigHasVirtioAsModulesIsRefusedNamingTheOptions() throws IOException {
        Path kernel = FakeKernel.write(tmp.resolve("vmlinuz"), FakeKernel.MODULAR_VIRTIO, FakeKernel.Compression.XZ);

        assertThatThrownBy(() -> importer().importKernel(kernel, null, tmp.resolve("k"), ProgressListener.NONE))
                .isInstanceOf(KernelException.class)
                .hasMessageContaining("is a modular kernel (CONFIG_VIRTIO_BLK=m, CONFIG_VIRTIO_CONSOLE=n, "
                        + "CONFIG_VIRTIO_MMIO=n or CONFIG_VIRTIO_PCI=m)")
                .hasMessageContaining("--modules DIR");
        assertThat(tmp.resolve("k")).doesNotExist();
    }

    @Test
    void aKernelWithVirtioBuiltInImportsWithoutModulesAndAnEmptyLoadList() throws IOException {
        Path kernel = FakeKernel.write(tmp.resolve("vmlinuz"), FakeKernel.BUILT_IN_VIRTIO,
                FakeKernel.Compression.ZSTD);

        KernelArtifacts k = importer().importKernel(kernel, null, tmp.resolve("k"), ProgressListener.NONE);

        assertThat(k.version()).as("read from the bzImage header").isEqualTo(FakeKernel.VERSION);
        assertThat(k.modules()).isEmpty();
        assertThat(k.vmlinux()).isEqualTo(tmp.resolve("k/vmlinux"));
        assertThat(Files.readAllBytes(k.vmlinux())).isEqualTo(FakeKernel.vmlinux(FakeKernel.BUILT_IN_VIRTIO));
        assertThat(NewcReader.readGzip(k.modulesInitramfs())).filteredOn(e -> e.name().equals("etc/banger/modules"))
                .singleElement().satisfies(e -> assertThat(e.data()).isEmpty());
    }

    @Test
    void anElfKernelWithVirtioBuiltInImportsAsItIs() throws IOException {
        Path kernel = Files.write(tmp.resolve("vmlinux-x"), FakeKernel.vmlinux(FakeKernel.BUILT_IN_VIRTIO));

        KernelArtifacts k = importer().importKernel(kernel, null, tmp.resolve("k"), ProgressListener.NONE);

        assertThat(k.format()).isEqualTo(KernelFormat.ELF);
        assertThat(k.version()).isEqualTo(FakeKernel.VERSION);
        assertThat(k.vmlinux()).as("the kernel itself is the ELF").isNull();
        assertThat(k.bootImage(VmmKind.FIRECRACKER)).contains(tmp.resolve("k/vmlinux"));
    }

    @Test
    void modulesOfAnotherKernelAreRefused() throws IOException {
        Path other = Files.createDirectories(tmp.resolve("lib/modules/9.9.9-other"));
        Files.writeString(other.resolve("modules.builtin"), "kernel/fs/ext4/ext4.ko\n");

        assertThatThrownBy(() -> importer().importKernel(unpackedKernel(), other,
                tmp.resolve("k"), ProgressListener.NONE))
                .isInstanceOf(KernelException.class)
                .hasMessageContaining("is for kernel 9.9.9-other but")
                .hasMessageContaining(packageVersion);
        assertThat(tmp.resolve("k")).doesNotExist();
    }

    @Test
    void garbageKernelFileIsRejectedAndNothingIsLeftBehind() throws IOException {
        Path garbage = Files.write(tmp.resolve("vmlinuz"), new byte[8192]);
        assertThatThrownBy(() -> importer().importKernel(garbage, null, tmp.resolve("k"), ProgressListener.NONE))
                .isInstanceOf(NotAKernelException.class)
                .hasMessageContaining("not a Linux kernel image: " + garbage);
        assertThat(tmp.resolve("k")).doesNotExist();
    }

    @Test
    void aDebThatIsNotAPackageIsRejected() throws IOException {
        Path fake = Files.writeString(tmp.resolve("linux-image-fake.deb"), "!<arch>\nnonsense");
        assertThatThrownBy(() -> importer().importDeb(fake, tmp.resolve("k"), ProgressListener.NONE))
                .isInstanceOf(KernelException.class)
                .hasMessageContaining(fake.toString());
        try (var files = Files.list(tmp)) {
            assertThat(files).as("work directories removed").containsExactly(fake);
        }
    }

    @Test
    void aWantedModuleMissingFromTheKernelIsAnErrorNamingIt() {
        List<String> wanted = new ArrayList<>(ModuleResolver.GUEST_MODULES);
        wanted.add("banger_no_such_module");
        KernelImporter strict = new KernelImporter(TestAssets.runner(), Executables.fromEnvironment(), wanted,
                null);

        assertThatThrownBy(() -> strict.importKernel(unpackedKernel(), unpacked, tmp.resolve("k"),
                ProgressListener.NONE))
                .isInstanceOf(MissingModuleException.class)
                .hasMessageContaining("kernel module banger_no_such_module is needed by banger");
        assertThat(tmp.resolve("k")).doesNotExist();
    }

    @Test
    void existingDestinationIsRefused() throws IOException {
        Path dest = Files.createDirectory(tmp.resolve("k"));
        assertThatThrownBy(() -> importer().importDeb(deb, dest, ProgressListener.NONE))
                .isInstanceOf(KernelException.class).hasMessageContaining("already exists");
    }

    static byte[] gunzip(Path file) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return in.readAllBytes();
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
