package dev.banger.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.config.BangerPaths;
import dev.banger.host.ProcessCommandRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UserKeyTest {

    @TempDir
    Path home;

    private BangerPaths paths() {
        return BangerPaths.resolve(Map.of("BANGER_HOME", home.toString()), "/", 0);
    }

    @Test
    void ensure_createsThePairWithPrivateModesOnFirstUse() throws Exception {
        BangerPaths paths = paths();

        UserKey key = UserKey.ensure(paths);

        assertThat(key.privateKey()).isEqualTo(paths.sshPrivateKey());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(paths.sshDir()))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(paths.sshPrivateKey())))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(paths.sshPublicKey())))
                .isEqualTo("rw-r--r--");
        assertThat(Files.readString(paths.sshPublicKey())).isEqualTo(key.publicKey() + "\n");
        assertThat(new ProcessCommandRunner().run("ssh-keygen", "-y", "-f", paths.sshPrivateKey().toString())
                .stdoutText().strip()).isEqualTo(key.publicKey());
    }

    @Test
    void ensure_keepsAnExistingKeyAndRepairsItsPubAndMode() throws Exception {
        BangerPaths paths = paths();
        UserKey first = UserKey.ensure(paths);
        Files.delete(paths.sshPublicKey());
        Files.setPosixFilePermissions(paths.sshPrivateKey(), PosixFilePermissions.fromString("rw-r--r--"));

        UserKey again = UserKey.ensure(paths);

        assertThat(again.publicKey()).isEqualTo(first.publicKey());
        assertThat(Files.readString(paths.sshPublicKey()).strip()).isEqualTo(first.publicKey());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(paths.sshPrivateKey())))
                .as("ssh refuses a private key others can read").isEqualTo("rw-------");
    }

    @Test
    void ensure_neverOverwritesAKeyItCannotRead() throws Exception {
        BangerPaths paths = paths();
        Files.createDirectories(paths.sshDir());
        Files.writeString(paths.sshPrivateKey(), "someone's RSA key\n");

        assertThatThrownBy(() -> UserKey.ensure(paths)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("move it away");
        assertThat(Files.readString(paths.sshPrivateKey())).isEqualTo("someone's RSA key\n");
    }
}
