package dev.banger.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Install and uninstall on awkward real-world configs, compared byte for byte. */
class UserSshConfigTest {

    @TempDir
    Path home;

    private final Path banger = Path.of("/etc/banger/ssh/config");

    static Stream<Arguments> trickyConfigs() {
        return Stream.of(
                Arguments.of("empty file", ""),
                Arguments.of("no final newline", "Host box\n    User me"),
                Arguments.of("CRLF", "Host box\r\n    User me\r\n"),
                Arguments.of("starts with a blank line", "\nHost box\n  User me\n"),
                Arguments.of("Host * and other Includes", "Include ~/.ssh/config.d/*\n\nHost *\n"
                        + "    ServerAliveInterval 30\n    IdentityFile ~/.ssh/id_work\n\nHost *.vm\n"
                        + "    User someone-else\n"),
                Arguments.of("only comments, tabs and trailing spaces", "# mine\n\t# indented  \n   \n"),
                Arguments.of("UTF-8 and stray bytes", "# caf\u00e9 \u2603\nHost x\n  HostName h\n\u0000\u00ff\n"),
                Arguments.of("a lone CR", "Host a\rHost b\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("trickyConfigs")
    void installThenUninstall_givesBackTheOriginalBytes(String what, String original) throws Exception {
        Path file = home.resolve(".ssh/config");
        Files.createDirectories(file.getParent());
        byte[] bytes = original.getBytes(StandardCharsets.UTF_8);
        Files.write(file, bytes);

        assertThat(UserSshConfig.install(file, banger)).isEqualTo(UserSshConfig.Outcome.INSTALLED);
        byte[] installed = Files.readAllBytes(file);
        assertThat(UserSshConfig.install(file, banger)).as("idempotent").isEqualTo(UserSshConfig.Outcome.UNCHANGED);
        assertThat(Files.readAllBytes(file)).isEqualTo(installed);
        assertThat(UserSshConfig.uninstall(file)).isEqualTo(UserSshConfig.Outcome.REMOVED);

        assertThat(Files.readAllBytes(file)).as(what).isEqualTo(bytes);
    }

    @Test
    void install_putsTheBlockFirstThenABlankLine() throws Exception {
        Path file = write("Host *\n    User me\n");

        UserSshConfig.install(file, banger);

        assertThat(Files.readString(file)).isEqualTo("# BEGIN banger\nInclude /etc/banger/ssh/config\n# END banger\n\n"
                + "Host *\n    User me\n");
    }

    @Test
    void install_inACrlfFileWritesACrlfBlock() throws Exception {
        Path file = write("Host a\r\n");

        UserSshConfig.install(file, banger);

        assertThat(Files.readString(file)).isEqualTo("# BEGIN banger\r\nInclude /etc/banger/ssh/config\r\n"
                + "# END banger\r\n\r\nHost a\r\n");
    }

    @Test
    void install_createsSshDirAndFileWithPrivateModes() throws Exception {
        Path file = home.resolve("fresh/.ssh/config");
        Files.createDirectories(file.getParent().getParent());

        assertThat(UserSshConfig.install(file, Path.of("/my banger/ssh/config")))
                .isEqualTo(UserSshConfig.Outcome.INSTALLED);

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())))
                .isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(Files.readString(file))
                .isEqualTo("# BEGIN banger\nInclude \"/my banger/ssh/config\"\n# END banger\n");
    }

    @Test
    void install_keepsTheModeOfAnExistingFileAndEditsThroughASymlink() throws Exception {
        Path real = home.resolve("dotfiles/ssh_config");
        Files.createDirectories(real.getParent());
        Files.writeString(real, "Host a\n");
        Files.setPosixFilePermissions(real, PosixFilePermissions.fromString("rw-r-----"));
        Path link = home.resolve(".ssh/config");
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, real);

        UserSshConfig.install(link, banger);

        assertThat(Files.isSymbolicLink(link)).as("the dotfile manager's link is kept").isTrue();
        assertThat(Files.readString(real)).startsWith("# BEGIN banger\n").endsWith("\nHost a\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(real))).isEqualTo("rw-r-----");
    }

    @Test
    void install_updatesAMovedBlockInPlaceAndDropsDuplicates() throws Exception {
        Path file = write("Host a\n  User me\n# BEGIN banger\nInclude /old/path\n# END banger\nHost b\n"
                + "# BEGIN banger\nInclude /older\n# END banger\n");

        assertThat(UserSshConfig.install(file, banger)).isEqualTo(UserSshConfig.Outcome.UPDATED);

        assertThat(Files.readString(file)).isEqualTo("Host a\n  User me\n# BEGIN banger\n"
                + "Include /etc/banger/ssh/config\n"
                + "# END banger\nHost b\n");
    }

    @Test
    void uninstall_removesOnlyTheBlock() throws Exception {
        Path file = write("Host a\n# BEGIN banger\nInclude /x\n# END banger\n\nHost b\n");

        assertThat(UserSshConfig.uninstall(file)).isEqualTo(UserSshConfig.Outcome.REMOVED);

        assertThat(Files.readString(file)).as("the blank line is the user's: only a top block has banger's")
                .isEqualTo("Host a\n\nHost b\n");
        assertThat(UserSshConfig.uninstall(file)).isEqualTo(UserSshConfig.Outcome.ABSENT);
        assertThat(UserSshConfig.uninstall(home.resolve("missing"))).isEqualTo(UserSshConfig.Outcome.ABSENT);
    }

    @Test
    void anUnterminatedBlockIsLeftForTheUserToFix() throws Exception {
        Path file = write("# BEGIN banger\nInclude /x\nHost a\n");

        assertThatThrownBy(() -> UserSshConfig.install(file, banger)).hasMessageContaining("line 1")
                .hasMessageContaining("# END banger");
        assertThat(Files.readString(file)).isEqualTo("# BEGIN banger\nInclude /x\nHost a\n");
    }

    private Path write(String content) throws Exception {
        Path file = home.resolve(".ssh/config");
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
        return file;
    }
}
