package dev.banger.image.registry;

import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Predicate;

/** Turns what a user typed into an {@link ImageSource}. */
public final class ImageSources {

    private ImageSources() {
    }

    /** A shared HTTP client configured as registry calls need it; create one per daemon. */
    public static HttpClient newHttpClient() {
        return RegistryClient.newHttpClient();
    }

    /**
     * The local part of an {@code oci-layout:DIR[:TAG]} or {@code docker-archive:FILE[:REPO:TAG]} reference.
     *
     * @param prefix {@code oci-layout:} or {@code docker-archive:}
     * @param path the directory or file
     * @param rest what followed the path ({@code TAG}, {@code REPO:TAG}), or null
     */
    public record LocalSpec(String prefix, Path path, String rest) {
        public boolean directory() {
            return prefix.equals(OciLayoutSource.PREFIX);
        }

        /** The same reference with another path (a copy of the input). */
        public String withPath(Path other) {
            return prefix + other + (rest != null ? ":" + rest : "");
        }
    }

    /** Whether {@code reference} names a local input (a layout directory or an archive file). */
    public static boolean isLocal(String reference) {
        return reference != null && (reference.startsWith(OciLayoutSource.PREFIX)
                || reference.startsWith(DockerArchiveSource.PREFIX));
    }

    /**
     * Splits a local reference as {@code isDirectory} and {@code isFile} see the file system (the path may contain
     * ':'); empty when it is not local or names nothing they accept.
     */
    public static Optional<LocalSpec> localSpec(String reference, Predicate<Path> isDirectory,
                                                Predicate<Path> isFile) {
        if (reference == null) {
            return Optional.empty();
        }
        String prefix = reference.startsWith(OciLayoutSource.PREFIX) ? OciLayoutSource.PREFIX
                : reference.startsWith(DockerArchiveSource.PREFIX) ? DockerArchiveSource.PREFIX : null;
        if (prefix == null) {
            return Optional.empty();
        }
        SplitSpec split = SplitSpec.split(reference.substring(prefix.length()),
                prefix.equals(OciLayoutSource.PREFIX) ? isDirectory : isFile);
        return split == null ? Optional.empty()
                : Optional.of(new LocalSpec(prefix, split.path().toAbsolutePath().normalize(), split.rest()));
    }

    /**
     * Opens {@code reference}: {@code oci-layout:DIR[:TAG]}, {@code docker-archive:FILE[:REPO:TAG]}, or a registry
     * reference (optionally prefixed {@code docker://}).
     *
     * @param insecure allow plain HTTP to this registry even though it is not on loopback
     * @throws IllegalArgumentException when the reference is malformed or names no existing directory/file
     */
    public static ImageSource open(String reference, HttpClient http, DockerCredentials credentials,
                                   boolean insecure) {
        if (reference == null || reference.isBlank()) {
            throw new IllegalArgumentException("empty image reference");
        }
        if (reference.startsWith(OciLayoutSource.PREFIX)) {
            return OciLayoutSource.parse(reference.substring(OciLayoutSource.PREFIX.length()));
        }
        if (reference.startsWith(DockerArchiveSource.PREFIX)) {
            return DockerArchiveSource.parse(reference.substring(DockerArchiveSource.PREFIX.length()));
        }
        String ref = reference.startsWith("docker://") ? reference.substring("docker://".length()) : reference;
        return new RegistryImageSource(ImageReference.parse(ref), http, credentials, insecure);
    }
}
