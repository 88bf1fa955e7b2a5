package dev.banger.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.testkit.BangerHome;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pins the guest sshd's security posture: exactly the allow-list, none of the deny-list. */
class SshdDropInTest {

    @Test
    void text_isExactlyTheAllowListedDirectives() {
        List<String> directives = SshdDropIn.TEXT.lines().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();

        assertThat(directives).containsExactly(
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "AuthorizedKeysFile /root/.ssh/authorized_keys");
        assertThat(SshdDropIn.DIRECTIVES).isEqualTo(directives);
    }

    @Test
    void text_hasNoneOfTheDenyListedDirectives() {
        List<String> lines = SshdDropIn.TEXT.lines().map(String::strip).toList();

        assertThat(lines).noneMatch(l -> l.equalsIgnoreCase("LogLevel DEBUG3"))
                .noneMatch(l -> l.equalsIgnoreCase("StrictModes no"))
                .noneMatch(l -> l.equalsIgnoreCase("PermitRootLogin yes"));
        assertThat(SshdDropIn.TEXT).doesNotContainIgnoringCase("LogLevel")
                .doesNotContainIgnoringCase("StrictModes");
    }

    @Test
    void path_isTheDropInDirectoryOfTheGuest() {
        assertThat(SshdDropIn.PATH).isEqualTo("etc/ssh/sshd_config.d/00-banger.conf");
    }

    @Test
    void guestAgent_startsSshdWithTheSameDirectivesAndWritesTheSameDropIn() throws Exception {
        String c = Files.readString(BangerHome.root().resolve("guest/src/posture.c"));

        for (String directive : SshdDropIn.DIRECTIVES) {
            assertThat(c).as("banger-init's -o option for " + directive)
                    .contains("\"" + directive.replaceFirst(" ", "=") + "\",\n");
        }
        String cText = String.join("", c.substring(c.indexOf("SSHD_DROPIN_TEXT[] =")).lines().skip(1)
                .takeWhile(l -> !l.isBlank() && !l.startsWith("}")).map(String::strip)
                .map(l -> l.replaceAll("^\"|\";?$", "").replace("\\n", "\n")).toList());
        assertThat(cText).as("the drop-in banger-init writes").isEqualTo(SshdDropIn.TEXT);
        assertThat(Files.readString(BangerHome.root().resolve("guest/src/posture.h"))).contains("#define SSHD_DROPIN \"/" + SshdDropIn.PATH + "\"");
    }
}
