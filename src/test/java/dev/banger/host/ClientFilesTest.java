package dev.banger.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientFilesTest {

    @TempDir
    Path tmp;

    @Test
    void removeLeftoversDeletesTheCopiesADeadDaemonLeftAndNothingOutside() throws Exception {
        Path staging = tmp.resolve("state/tmp/client-inputs");
        Path copy = Files.createDirectories(staging.resolve("client-123/tree/sub"));
        Files.writeString(copy.resolve("file"), "x");
        Files.writeString(staging.resolve("client-123/.stderr"), "");
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("kept"), "kept");
        Files.createSymbolicLink(staging.resolve("client-456"), outside); // Removed as a link, not followed.

        assertThat(new ClientFiles(staging).removeLeftovers()).isEqualTo(2);

        assertThat(staging).isEmptyDirectory();
        assertThat(outside.resolve("kept")).hasContent("kept");
    }

    @Test
    void removeLeftoversWithoutAStagingDirIsANoOp() {
        assertThat(new ClientFiles(tmp.resolve("missing")).removeLeftovers()).isZero();
        assertThat(tmp.resolve("missing")).doesNotExist();
    }
}
