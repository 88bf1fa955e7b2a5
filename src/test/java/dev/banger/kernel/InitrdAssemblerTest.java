package dev.banger.kernel;

import dev.banger.model.KernelArtifacts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.testkit.FakeKernel;
import dev.banger.testkit.NewcReader;
import dev.banger.testkit.TestAssets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InitrdAssemblerTest {

    @TempDir
    Path tmp;

    private KernelArtifacts kernel;
    private final InitrdAssembler assembler = new InitrdAssembler();

    @BeforeEach
    void kernelWithoutModules() throws IOException {
        Path bz = FakeKernel.write(tmp.resolve("bzImage"));
        kernel = new KernelImporter(TestAssets.runner()).importKernel(bz, null, tmp.resolve("k"),
                ProgressListener.NONE);
    }

    @Test
    void initIsAppendedAsASecondArchiveAfterTheModules() throws IOException {
        Path init = Files.writeString(tmp.resolve("banger-init"), "\u007fELF pretend");
        Path busybox = Files.writeString(tmp.resolve("busybox"), "bb");

        Path initrd = assembler.initrdFor(kernel, init, List.of(new InitramfsFile("/bin/busybox", busybox, 0755)));

        List<NewcReader.Entry> entries = NewcReader.readGzip(initrd);
        assertThat(entries).filteredOn(e -> e.archive() == 0).extracting(NewcReader.Entry::name)
                .contains("dev/console", "etc/banger/modules").doesNotContain("init");
        assertThat(entries).filteredOn(e -> e.archive() == 1).extracting(NewcReader.Entry::name)
                .containsExactly("init", "bin", "bin/busybox");
        NewcReader.Entry initEntry = entries.stream().filter(e -> e.name().equals("init")).findFirst().orElseThrow();
        assertThat(initEntry.text()).isEqualTo("\u007fELF pretend");
        assertThat(initEntry.mode() & 0777).isEqualTo(0755);
        assertThat(initrd.getParent()).isEqualTo(kernel.directory());
    }

    @Test
    void sameInitReusesTheFileAndGivesTheSameBytes() throws IOException {
        Path init = Files.writeString(tmp.resolve("init-a"), "A");
        Path first = assembler.initrdFor(kernel, init);
        byte[] bytes = Files.readAllBytes(first);
        Files.delete(first);

        Path second = assembler.initrdFor(kernel, init);

        assertThat(second).isEqualTo(first);
        assertThat(Files.readAllBytes(second)).isEqualTo(bytes);
    }

    @Test
    void changedInitGivesANewInitrd() throws IOException {
        Path init = Files.writeString(tmp.resolve("init"), "v1");
        Path v1 = assembler.initrdFor(kernel, init);
        Files.writeString(init, "v2");
        Path v2 = assembler.initrdFor(kernel, init);

        assertThat(v2).isNotEqualTo(v1);
        assertThat(NewcReader.readGzip(v2)).filteredOn(e -> e.name().equals("init")).singleElement()
                .satisfies(e -> assertThat(e.text()).isEqualTo("v2"));
    }

    @Test
    void pruneKeepsTheNewest() throws IOException {
        Path init = tmp.resolve("init");
        for (int i = 0; i < 4; i++) {
            Files.writeString(init, "v" + i);
            Path p = assembler.initrdFor(kernel, init);
            Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.fromMillis(1_000_000L * (i + 1)));
        }
        Path newest = assembler.initrdFor(kernel, init);

        assembler.prune(kernel, 2);

        try (var files = Files.list(kernel.directory())) {
            assertThat(files.filter(f -> f.getFileName().toString().startsWith("initrd-"))).hasSize(2)
                    .contains(newest);
        }
    }

    @Test
    void missingInitIsAClearError() {
        assertThatThrownBy(() -> assembler.initrdFor(kernel, tmp.resolve("nope")))
                .isInstanceOf(KernelException.class).hasMessageContaining("guest init " + tmp.resolve("nope"));
    }
}
