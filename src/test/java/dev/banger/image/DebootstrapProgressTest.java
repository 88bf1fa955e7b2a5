package dev.banger.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Lines as debootstrap 1.0.128 prints them building bookworm (taken from a real run). */
class DebootstrapProgressTest {

    private final List<String> shown = new ArrayList<>();
    private final AtomicLong now = new AtomicLong();
    private final DebootstrapProgress progress = new DebootstrapProgress(shown::add, now::get);

    @Test
    void stagesShowAsTheyComeAndValidationIsQuiet() {
        feed("I: Retrieving InRelease ", "I: Checking Release signature", "I: Retrieving Packages ",
                "I: Validating Packages ", "I: Resolving dependencies of required packages...",
                "I: Base system installed successfully.");

        assertThat(shown).containsExactly("debootstrap: Retrieving InRelease", "debootstrap: Checking Release signature",
                "debootstrap: Retrieving Packages", "debootstrap: Resolving dependencies of required packages...",
                "debootstrap: Base system installed successfully.");
    }

    @Test
    void packagesAreGatheredPerPhaseWithARunningCount() {
        feed("I: Retrieving adduser 3.134", "I: Validating adduser 3.134", "I: Retrieving apt 2.6.1");
        now.addAndGet(DebootstrapProgress.INTERVAL_NANOS);
        feed("I: Retrieving base-files 12.4+deb12u15", "I: Retrieving g++-12 12.2.0-14",
                "I: Unpacking required packages...", "I: Unpacking adduser...", "I: Unpacking libc6:amd64...",
                "I: Configuring libcrypt1:amd64...");
        progress.flush();

        assertThat(shown).containsExactly(
                "debootstrap: retrieving packages (3 so far): adduser apt base-files",
                "debootstrap: retrieving packages (4 so far): g++-12",
                "debootstrap: Unpacking required packages...",
                "debootstrap: unpacking packages (2 so far): adduser libc6",
                "debootstrap: configuring packages (1 so far): libcrypt1");
    }

    @Test
    void aLongBatchNamesTheFirstFewAndCountsTheRest() {
        for (int i = 0; i < 12; i++) {
            progress.accept("I: Configuring lib" + i + ":amd64...");
        }
        progress.flush();

        assertThat(shown).containsExactly("debootstrap: configuring packages (12 so far): lib0 lib1 lib2 lib3 lib4 "
                + "lib5 lib6 lib7 +4 more");
    }

    @Test
    void warningsAndErrorsPassThrough() {
        feed("W: Failure trying to run: chroot \"/x\" dpkg --force-depends --install /var/cache/apt/archives/a.deb");

        assertThat(shown).singleElement().asString().startsWith("debootstrap: W: Failure trying to run");
    }

    private void feed(String... lines) {
        for (String line : lines) {
            progress.accept(line);
        }
    }
}
