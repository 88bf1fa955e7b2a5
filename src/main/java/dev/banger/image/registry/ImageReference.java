package dev.banger.image.registry;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A registry image reference, parsed the way docker parses one: {@code debian} is
 * {@code docker.io/library/debian:latest}; the first path component is a registry host when it contains a '.' or
 * a ':' or is {@code localhost}; a reference names a tag, a digest, or both (the digest then decides what is
 * fetched).
 *
 * @param registry host[:port] as written ({@code docker.io} for Docker Hub)
 * @param repository the repository path, e.g. {@code library/debian}
 * @param tag the tag, or null when the reference is by digest only
 * @param digest the manifest digest, or null
 */
public record ImageReference(String registry, String repository, String tag, Digest digest) {

    public static final String DOCKER_HUB = "docker.io";
    private static final String DOCKER_HUB_API_HOST = "registry-1.docker.io";
    private static final Pattern PATH_COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final Pattern HOST = Pattern.compile(
            "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
                    + "|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?");

    public ImageReference {
        if (tag == null && digest == null) {
            throw new IllegalArgumentException("a reference needs a tag or a digest");
        }
    }

    /**
     * Parses a docker-style reference.
     *
     * @throws IllegalArgumentException naming the part that is malformed
     */
    public static ImageReference parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty image reference");
        }
        String rest = text.strip();
        Digest digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            try {
                digest = Digest.parse(rest.substring(at + 1));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid image reference '" + text + "': " + e.getMessage());
            }
            rest = rest.substring(0, at);
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        if (colon > rest.lastIndexOf('/')) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
            if (!TAG.matcher(tag).matches()) {
                throw new IllegalArgumentException("invalid tag '" + tag + "' in image reference '" + text
                        + "': use letters, digits, '_', '.' or '-', at most 128");
            }
        }
        String registry = DOCKER_HUB;
        String repository = rest;
        int slash = rest.indexOf('/');
        if (slash > 0) {
            String first = rest.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost")
                    || !first.equals(first.toLowerCase(Locale.ROOT))) {
                registry = first;
                repository = rest.substring(slash + 1);
                if (!HOST.matcher(registry).matches()) {
                    throw new IllegalArgumentException("invalid registry host '" + registry
                            + "' in image reference '" + text + "'");
                }
            }
        }
        if (registry.equals("index.docker.io")) {
            registry = DOCKER_HUB;
        }
        if (registry.equals(DOCKER_HUB) && !repository.contains("/")) {
            repository = "library/" + repository;
        }
        if (repository.isEmpty() || repository.length() > 255) {
            throw new IllegalArgumentException("invalid repository name in image reference '" + text + "'");
        }
        for (String component : repository.split("/", -1)) {
            if (!PATH_COMPONENT.matcher(component).matches()) {
                throw new IllegalArgumentException("invalid repository name '" + repository
                        + "' in image reference '" + text
                        + "': use lowercase letters, digits and single separators ('.', '_', '__', '-') between '/'");
            }
        }
        if (tag == null && digest == null) {
            tag = "latest";
        }
        return new ImageReference(registry, repository, tag, digest);
    }

    /** The host the registry API is served from (Docker Hub's differs from its name). */
    public String apiHost() {
        return registry.equals(DOCKER_HUB) ? DOCKER_HUB_API_HOST : registry;
    }

    /** The tag or digest to ask the manifest endpoint for: the digest when there is one. */
    public String manifestReference() {
        return digest != null ? digest.toString() : tag;
    }

    /** True when the registry is on this machine (localhost, 127.0.0.0/8, ::1): plain HTTP is allowed there. */
    public boolean isLoopback() {
        String host = registry;
        if (host.startsWith("[")) {
            host = host.substring(1, host.indexOf(']'));
            return host.equals("::1") || host.equals("0:0:0:0:0:0:0:1");
        }
        int colon = host.indexOf(':');
        if (colon >= 0) {
            host = host.substring(0, colon);
        }
        return host.equals("localhost") || host.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    }

    /** The same image pinned to {@code manifestDigest}, keeping the tag for display. */
    public ImageReference withDigest(Digest manifestDigest) {
        return new ImageReference(registry, repository, tag, manifestDigest);
    }

    /** The canonical form: {@code registry/repository[:tag][@digest]}. */
    @Override
    public String toString() {
        return registry + "/" + repository + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }
}
