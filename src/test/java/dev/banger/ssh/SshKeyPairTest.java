package dev.banger.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.host.Command;
import dev.banger.host.ProcessCommandRunner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The key files are checked by the real ssh-keygen: if it reads them, ssh and sshd do too. */
class SshKeyPairTest {

    @TempDir
    Path dir;

    private final ProcessCommandRunner runner = new ProcessCommandRunner();

    @Test
    void generate_privateKeyIsReadByRealSshKeygenAndYieldsThePublicKey() throws Exception {
        SshKeyPair pair = SshKeyPair.generate("banger-test");
        Path key = dir.resolve("id_ed25519");
        Files.writeString(key, pair.privateKey(), StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));

        String derived = runner.run(Command.of("ssh-keygen", "-y", "-f", key.toString())).stdoutText().strip();

        assertThat(derived).as("ssh-keygen -y prints the public key with the comment stored in the private key")
                .isEqualTo(pair.publicKey());
        assertThat(pair.publicKey()).startsWith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI").endsWith(" banger-test");
    }

    @Test
    void generate_fingerprintMatchesSshKeygen() throws Exception {
        SshKeyPair pair = SshKeyPair.generate("fp");
        Path pub = dir.resolve("k.pub");
        Files.writeString(pub, pair.publicKey() + "\n");

        String listed = runner.run(Command.of("ssh-keygen", "-l", "-f", pub.toString())).stdoutText();

        assertThat(listed).startsWith("256 " + SshKeyPair.fingerprint(pair.publicKey()) + " fp (ED25519)");
    }

    @Test
    void generate_armourIsSeventyColumnsAndPaddedLikeSshKeygen() {
        String pem = SshKeyPair.generate("x").privateKey();

        assertThat(pem).startsWith("-----BEGIN OPENSSH PRIVATE KEY-----\n")
                .endsWith("-----END OPENSSH PRIVATE KEY-----\n");
        assertThat(pem.lines().filter(l -> !l.startsWith("-----"))).allMatch(l -> l.length() <= 70);
    }

    @Test
    void publicKeyOf_readsAKeyMadeBySshKeygen() throws Exception {
        Path key = dir.resolve("made-by-keygen");
        runner.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "c", "-f", key.toString());

        String derived = SshKeyPair.publicKeyOf(Files.readString(key), "c");

        assertThat(derived).isEqualTo(Files.readString(key.resolveSibling("made-by-keygen.pub")).strip());
    }

    @Test
    void publicKeyOf_rejectsEncryptedAndForeignKeys() throws Exception {
        Path encrypted = dir.resolve("enc");
        runner.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "secret-passphrase", "-f", encrypted.toString());
        Path rsa = dir.resolve("rsa");
        runner.run("ssh-keygen", "-q", "-t", "rsa", "-b", "1024", "-N", "", "-f", rsa.toString());

        assertThatThrownBy(() -> SshKeyPair.publicKeyOf(Files.readString(encrypted), null))
                .hasMessageContaining("encrypted");
        assertThatThrownBy(() -> SshKeyPair.publicKeyOf(Files.readString(rsa), null))
                .hasMessageContaining("ssh-rsa");
        assertThatThrownBy(() -> SshKeyPair.publicKeyOf("hello", null)).hasMessageContaining("not an OpenSSH");
    }

    @Test
    void toString_neverShowsThePrivateKey() {
        SshKeyPair pair = SshKeyPair.generate("secret-check");

        assertThat(pair.toString()).doesNotContain("PRIVATE").contains("ssh-ed25519");
    }
}
