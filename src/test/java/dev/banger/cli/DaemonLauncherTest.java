package dev.banger.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bangerd.out, appended to by every daemon the CLI starts, is rotated before it grows past its bound. */
class DaemonLauncherTest {

    @TempDir
    Path dir;

    @Test
    void aLargeConsoleLogBecomesTheOneOldCopyAndASmallOneStays() throws Exception {
        Path log = dir.resolve("bangerd.out");
        DaemonLauncher.rotateIfLarge(log); // Absent: nothing to do.
        Files.write(log, new byte[(int) DaemonLauncher.CONSOLE_LOG_ROTATE_BYTES]);
        DaemonLauncher.rotateIfLarge(log);
        assertThat(log).exists();

        Files.write(log, new byte[(int) DaemonLauncher.CONSOLE_LOG_ROTATE_BYTES + 1]);
        Files.writeString(dir.resolve("bangerd.out.1"), "older");
        DaemonLauncher.rotateIfLarge(log);

        assertThat(log).doesNotExist();
        assertThat(Files.size(dir.resolve("bangerd.out.1"))).isEqualTo(DaemonLauncher.CONSOLE_LOG_ROTATE_BYTES + 1);
    }
}
