package dev.banger.image.registry;

import dev.banger.json.Json;
import dev.banger.json.JsonException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads the few fields banger needs from registry JSON (manifests, indexes, configs, token responses), which
 * carry many fields banger ignores; the record codec rejects unknown fields, so these documents are read as trees.
 */
final class JsonFields {

    private final Map<?, ?> object;
    private final String what;

    private JsonFields(Map<?, ?> object, String what) {
        this.object = object;
        this.what = what;
    }

    /** @param what names the document in errors ("manifest sha256:…") */
    static JsonFields parse(byte[] utf8, String what) {
        Object tree;
        try {
            tree = Json.parseTree(new String(utf8, StandardCharsets.UTF_8));
        } catch (JsonException e) {
            throw new ManifestException(what + " is not valid JSON: " + e.getMessage());
        }
        if (!(tree instanceof Map<?, ?> map)) {
            throw new ManifestException(what + " is not a JSON object");
        }
        return new JsonFields(map, what);
    }

    static JsonFields of(Object tree, String what) {
        if (!(tree instanceof Map<?, ?> map)) {
            throw new ManifestException(what + " is not a JSON object");
        }
        return new JsonFields(map, what);
    }

    boolean has(String field) {
        return object.get(field) != null;
    }

    String string(String field) {
        Object v = object.get(field);
        if (v != null && !(v instanceof String)) {
            throw new ManifestException(what + ": field '" + field + "' is not a string");
        }
        return (String) v;
    }

    String requireString(String field) {
        String v = string(field);
        if (v == null) {
            throw new ManifestException(what + ": field '" + field + "' is missing");
        }
        return v;
    }

    long requireLong(String field) {
        Object v = object.get(field);
        if (!(v instanceof Long l)) {
            throw new ManifestException(what + ": field '" + field + "' is missing or not an integer");
        }
        return l;
    }

    long longOr(String field, long fallback) {
        Object v = object.get(field);
        return v instanceof Long l ? l : fallback;
    }

    JsonFields object(String field) {
        Object v = object.get(field);
        return v == null ? null : of(v, what + "." + field);
    }

    List<JsonFields> objects(String field) {
        Object v = object.get(field);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> list)) {
            throw new ManifestException(what + ": field '" + field + "' is not an array");
        }
        List<JsonFields> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            out.add(of(list.get(i), what + "." + field + "[" + i + "]"));
        }
        return out;
    }

    /** A list of strings, or null when absent or JSON null. */
    List<String> strings(String field) {
        Object v = object.get(field);
        if (v == null) {
            return null;
        }
        if (!(v instanceof List<?> list)) {
            throw new ManifestException(what + ": field '" + field + "' is not an array");
        }
        List<String> out = new ArrayList<>(list.size());
        for (Object item : list) {
            if (!(item instanceof String s)) {
                throw new ManifestException(what + ": field '" + field + "' holds a non-string");
            }
            out.add(s);
        }
        return out;
    }

    /** An annotation's value, or null. */
    String annotation(String name) {
        JsonFields annotations = object("annotations");
        return annotations == null ? null : annotations.string(name);
    }

    Descriptor descriptor(String field) {
        JsonFields d = object(field);
        if (d == null) {
            throw new ManifestException(what + ": field '" + field + "' is missing");
        }
        return d.asDescriptor();
    }

    Descriptor asDescriptor() {
        Digest digest;
        try {
            digest = Digest.parse(requireString("digest"));
        } catch (IllegalArgumentException e) {
            throw new ManifestException(what + ": " + e.getMessage());
        }
        long size = requireLong("size");
        if (size < 0) {
            throw new ManifestException(what + ": negative size " + size);
        }
        JsonFields p = object("platform");
        Platform platform = p == null ? null
                : new Platform(p.string("os"), p.string("architecture"), p.string("variant"));
        return new Descriptor(string("mediaType"), digest, size, platform);
    }
}
