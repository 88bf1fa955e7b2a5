package dev.banger.ssh;

import dev.banger.config.BangerPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * banger's user key: the ed25519 key every VM's {@code /root/.ssh/authorized_keys} holds, and the identity
 * {@code vm ssh} and {@code ssh NAME.vm} use. Made on first use under the config dir ({@code ssh/id_ed25519} 0600,
 * {@code ssh/id_ed25519.pub} 0644, the directory 0700); the daemon and the CLI both call {@link #ensure} and agree
 * through the SSH lock.
 *
 * @param privateKey the private key file
 * @param publicKey the public key line (as in the {@code .pub} file, without the newline)
 */
public record UserKey(Path privateKey, String publicKey) {

    static final String COMMENT = "banger";

    /**
     * The user key, created when absent. A missing or mismatched {@code .pub} is rebuilt from the private key.
     *
     * @throws UncheckedIOException when the config dir cannot be written
     * @throws IllegalStateException when the private key file exists but is not an OpenSSH ed25519 key (banger
     *     never overwrites a key it cannot read)
     */
    public static UserKey ensure(BangerPaths paths) {
        try {
            SshFiles.ensurePrivateDir(paths.sshDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + paths.sshDir() + ": " + e.getMessage(), e);
        }
        return SshFiles.locked(paths.sshLock(), () -> {
            try {
                return ensureLocked(paths.sshPrivateKey(), paths.sshPublicKey());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create banger's SSH key in " + paths.sshDir() + ": "
                        + e.getMessage(), e);
            }
        });
    }

    private static UserKey ensureLocked(Path privateFile, Path publicFile) throws IOException {
        if (Files.isRegularFile(privateFile)) {
            try {
                String derived = SshKeyPair.publicKeyOf(Files.readString(privateFile, StandardCharsets.UTF_8),
                        COMMENT);
                Files.setPosixFilePermissions(privateFile, SshFiles.FILE_0600);
                String existing = Files.isRegularFile(publicFile)
                        ? Files.readString(publicFile, StandardCharsets.UTF_8).strip() : "";
                if (existing.isEmpty() || !SshKeyPair.keyData(existing).equals(SshKeyPair.keyData(derived))) {
                    SshFiles.writeAtomically(publicFile, derived + "\n", SshFiles.FILE_0644);
                    existing = derived;
                }
                return new UserKey(privateFile, existing);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(privateFile + " is not an unencrypted OpenSSH ed25519 key ("
                        + e.getMessage() + "); move it away and banger makes a new one", e);
            }
        }
        SshKeyPair pair = SshKeyPair.generate(COMMENT);
        SshFiles.writeAtomically(privateFile, pair.privateKey(), SshFiles.FILE_0600);
        SshFiles.writeAtomically(publicFile, pair.publicKey() + "\n", SshFiles.FILE_0644);
        return new UserKey(privateFile, pair.publicKey());
    }
}
