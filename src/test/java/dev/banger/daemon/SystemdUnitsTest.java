package dev.banger.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.TestAbortedException;

/**
 * The package's systemd units (packaging/deb) pass {@code systemd-analyze verify} with nothing to say: warnings
 * (an unknown directive, a bad value) fail too, not only errors. verify also checks that ExecStart's program
 * exists, which /usr/bin/bangerd does only once the package is installed, so the service is verified as a copy
 * whose ExecStart names /bin/true; everything else is the file as shipped.
 */
class SystemdUnitsTest {

    private static final Path UNITS = Path.of(System.getProperty("banger.root", ".")).resolve("packaging/deb");

    @TempDir
    Path tmp;

    @Test
    void bothUnitsVerifyCleanly() throws Exception {
        Path analyze = Path.of("/usr/bin/systemd-analyze");
        if (!Files.isExecutable(analyze)) {
            throw new TestAbortedException("systemd-analyze is not installed (apt-get install systemd); skipping");
        }
        String service = Files.readString(UNITS.resolve("bangerd.service"));
        assertThat(service).contains("\nExecStart=/usr/bin/bangerd\n", "\nStandardInput=socket\n");
        Files.writeString(tmp.resolve("bangerd.service"),
                service.replace("\nExecStart=/usr/bin/bangerd\n", "\nExecStart=/bin/true\n"));
        Files.copy(UNITS.resolve("bangerd.socket"), tmp.resolve("bangerd.socket"));

        Process verify = new ProcessBuilder(analyze.toString(), "verify", "--man=no",
                tmp.resolve("bangerd.socket").toString(), tmp.resolve("bangerd.service").toString())
                .redirectErrorStream(true).start();
        String output = new String(verify.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(verify.waitFor(60, TimeUnit.SECONDS)).isTrue();

        assertThat(output).as("systemd-analyze verify output").isEmpty();
        assertThat(verify.exitValue()).isZero();
    }
}
