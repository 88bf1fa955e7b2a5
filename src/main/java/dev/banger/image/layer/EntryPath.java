package dev.banger.image.layer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A path inside the image, checked: relative, no {@code ..}, components and total length within Linux's limits.
 * {@code .} and empty components are dropped, so {@code ./usr//bin/} is {@code usr/bin}; the empty path is the
 * root.
 */
record EntryPath(List<String> components) {

    static final int MAX_COMPONENT_BYTES = 255;
    static final int MAX_PATH_BYTES = 4095;

    EntryPath {
        components = List.copyOf(components);
    }

    /** Thrown by {@link #parse} with the reason; callers add the layer and entry. */
    static final class InvalidPathException extends Exception {
        InvalidPathException(String reason) {
            super(reason, null, false, false);
        }
    }

    static EntryPath parse(String name) throws InvalidPathException {
        if (name == null || name.isEmpty()) {
            throw new InvalidPathException("empty name");
        }
        if (name.indexOf('\0') >= 0) {
            throw new InvalidPathException("NUL byte in name");
        }
        if (name.startsWith("/")) {
            throw new InvalidPathException("absolute path (entries must be relative to the image root)");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
            throw new InvalidPathException("path longer than " + MAX_PATH_BYTES + " bytes");
        }
        List<String> parts = new ArrayList<>();
        for (String part : name.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                throw new InvalidPathException("'..' component (entries must stay inside the image root)");
            }
            if (part.getBytes(StandardCharsets.UTF_8).length > MAX_COMPONENT_BYTES) {
                throw new InvalidPathException("name component longer than " + MAX_COMPONENT_BYTES + " bytes");
            }
            parts.add(part);
        }
        return new EntryPath(parts);
    }

    boolean isRoot() {
        return components.isEmpty();
    }

    String name() {
        return components.get(components.size() - 1);
    }

    EntryPath parent() {
        return new EntryPath(components.subList(0, components.size() - 1));
    }

    EntryPath child(String name) {
        List<String> c = new ArrayList<>(components);
        c.add(name);
        return new EntryPath(c);
    }

    @Override
    public String toString() {
        return String.join("/", components);
    }
}
