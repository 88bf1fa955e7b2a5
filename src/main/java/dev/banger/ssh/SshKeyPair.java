package dev.banger.ssh;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.interfaces.EdECPrivateKey;
import java.util.Arrays;
import java.util.Base64;

/**
 * An ed25519 key pair in OpenSSH's own formats, made with the JDK's Ed25519 generator (no ssh-keygen needed on
 * the host): the unencrypted {@code openssh-key-v1} private key ({@code -----BEGIN OPENSSH PRIVATE KEY-----}) and
 * the one-line public key ({@code ssh-ed25519 AAAA... comment}).
 *
 * @param privateKey the armoured private key, newline-terminated
 * @param publicKey the public key line, without a newline
 */
public record SshKeyPair(String privateKey, String publicKey) {

    static final String KEY_TYPE = "ssh-ed25519";
    private static final String BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
    private static final String END = "-----END OPENSSH PRIVATE KEY-----";
    private static final byte[] MAGIC = "openssh-key-v1\0".getBytes(StandardCharsets.US_ASCII);
    /** X.509 SubjectPublicKeyInfo of an Ed25519 key: this prefix, then the 32-byte key (RFC 8410). */
    private static final byte[] SPKI_PREFIX = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A fresh key pair; {@code comment} ends the public line and is stored in the private key. */
    public static SshKeyPair generate(String comment) {
        KeyPair pair;
        try {
            pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot make Ed25519 keys: " + e.getMessage(), e);
        }
        byte[] seed = ((EdECPrivateKey) pair.getPrivate()).getBytes()
                .orElseThrow(() -> new IllegalStateException("the JDK did not expose the Ed25519 private key"));
        byte[] spki = pair.getPublic().getEncoded();
        if (spki.length != SPKI_PREFIX.length + 32
                || !Arrays.equals(spki, 0, SPKI_PREFIX.length, SPKI_PREFIX, 0, SPKI_PREFIX.length)) {
            throw new IllegalStateException("unexpected Ed25519 public key encoding (" + spki.length + " bytes)");
        }
        byte[] pub = Arrays.copyOfRange(spki, SPKI_PREFIX.length, spki.length);
        return fromRaw(seed, pub, comment);
    }

    static SshKeyPair fromRaw(byte[] seed, byte[] pub, String comment) {
        String safeComment = comment == null ? "" : comment.replaceAll("[\\r\\n]", " ");
        byte[] publicBlob = publicBlob(pub);

        Wire secret = new Wire();
        int check = RANDOM.nextInt();
        secret.u32(check).u32(check).string(KEY_TYPE).string(pub);
        byte[] secretKey = new byte[64];
        System.arraycopy(seed, 0, secretKey, 0, 32);
        System.arraycopy(pub, 0, secretKey, 32, 32);
        secret.string(secretKey).string(safeComment);
        for (int pad = 1; secret.size() % 8 != 0; pad++) {
            secret.raw(new byte[] {(byte) pad});
        }
        Arrays.fill(secretKey, (byte) 0);

        Wire file = new Wire();
        file.raw(MAGIC).string("none").string("none").string(new byte[0]).u32(1).string(publicBlob)
                .string(secret.bytes());
        String body = Base64.getEncoder().encodeToString(file.bytes());
        StringBuilder pem = new StringBuilder(BEGIN).append('\n');
        for (int i = 0; i < body.length(); i += 70) {
            pem.append(body, i, Math.min(body.length(), i + 70)).append('\n');
        }
        pem.append(END).append('\n');
        String line = KEY_TYPE + " " + Base64.getEncoder().encodeToString(publicBlob)
                + (safeComment.isEmpty() ? "" : " " + safeComment);
        return new SshKeyPair(pem.toString(), line);
    }

    /**
     * The public key line stored in an unencrypted OpenSSH private key (its header holds the public key).
     *
     * @throws IllegalArgumentException when {@code privateKey} is not an unencrypted OpenSSH ed25519 private key
     */
    public static String publicKeyOf(String privateKey, String comment) {
        String text = privateKey.strip();
        if (!text.startsWith(BEGIN) || !text.endsWith(END)) {
            throw new IllegalArgumentException("not an OpenSSH private key (no " + BEGIN + " armour)");
        }
        byte[] raw;
        try {
            raw = Base64.getMimeDecoder().decode(text.substring(BEGIN.length(), text.length() - END.length()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("OpenSSH private key is not valid base64: " + e.getMessage());
        }
        ByteBuffer in = ByteBuffer.wrap(raw);
        try {
            byte[] magic = new byte[MAGIC.length];
            in.get(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new IllegalArgumentException("not an openssh-key-v1 private key");
            }
            String cipher = new String(readString(in), StandardCharsets.US_ASCII);
            if (!"none".equals(cipher)) {
                throw new IllegalArgumentException("the key is encrypted (" + cipher + ")");
            }
            readString(in); // kdf
            readString(in); // kdf options
            if (in.getInt() != 1) {
                throw new IllegalArgumentException("the file holds more than one key");
            }
            byte[] blob = readString(in);
            String type = new String(readString(ByteBuffer.wrap(blob)), StandardCharsets.US_ASCII);
            if (!KEY_TYPE.equals(type)) {
                throw new IllegalArgumentException("key type is " + type + ", expected " + KEY_TYPE);
            }
            return KEY_TYPE + " " + Base64.getEncoder().encodeToString(blob)
                    + (comment == null || comment.isEmpty() ? "" : " " + comment);
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated OpenSSH private key");
        }
    }

    /** The base64 key of a public key line (its second field), which identifies the key. */
    public static String keyData(String publicKeyLine) {
        String[] fields = publicKeyLine.strip().split("\\s+");
        if (fields.length < 2 || !fields[0].startsWith("ssh-") && !fields[0].startsWith("ecdsa-")) {
            throw new IllegalArgumentException("not an OpenSSH public key line: " + publicKeyLine);
        }
        return fields[1];
    }

    /** The {@code SHA256:...} fingerprint ssh prints for a public key line. */
    public static String fingerprint(String publicKeyLine) {
        byte[] blob = Base64.getDecoder().decode(keyData(publicKeyLine));
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(blob);
            return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] publicBlob(byte[] pub) {
        return new Wire().string(KEY_TYPE).string(pub).bytes();
    }

    private static byte[] readString(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0 || n > in.remaining()) {
            throw new IllegalArgumentException("bad string length " + n + " in OpenSSH key");
        }
        byte[] b = new byte[n];
        in.get(b);
        return b;
    }

    /** The SSH wire encoding (RFC 4251): uint32 big-endian, string = uint32 length + bytes. */
    private static final class Wire {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Wire u32(int v) {
            out.write(v >>> 24);
            out.write(v >>> 16);
            out.write(v >>> 8);
            out.write(v);
            return this;
        }

        Wire string(String s) {
            return string(s.getBytes(StandardCharsets.UTF_8));
        }

        Wire string(byte[] b) {
            u32(b.length);
            out.writeBytes(b);
            return this;
        }

        Wire raw(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        int size() {
            return out.size();
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    @Override
    public String toString() {
        return "SshKeyPair[" + publicKey + "]"; // Never the private key.
    }
}
