package dev.banger.vmm.firecracker;

import dev.banger.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Firecracker's HTTP API as the fake Firecracker and the tests check it, read from the project's own description
 * ({@value #RESOURCE} on the test class path, written from Firecracker's published API and naming the upstream
 * version it follows), and a validator for JSON trees (as {@link Json#parseTree} makes them) against its types.
 * The fake uses it to refuse what the real Firecracker refuses, and tests use it to check every body the driver
 * sends.
 *
 * <p>The file is one JSON object:
 * <ul>
 *   <li>{@code upstream}: which Firecracker API description it follows ({@code version}, {@code commit});
 *   <li>{@code endpoints}: {@code "METHOD /path"} (path variables as {@code {name}}) to {@code body} (the type of
 *       the request body) and/or {@code answer} (the type of a 200 answer). An endpoint with a body answers 204
 *       with no body on success; every endpoint answers an error status with an {@code Error} body;
 *   <li>{@code endpoints_not_described}: endpoints Firecracker has whose bodies are not described here, so the
 *       fake can tell "not implemented" from "no such endpoint";
 *   <li>{@code types}: name to either a struct ({@code fields}: name to field type, in Firecracker's order;
 *       optional {@code required}; optional {@code exactly_one_of}: field names of which a body must hold exactly
 *       one) or an enum ({@code enum}: the values).
 * </ul>
 * A field type is {@code "string"}, {@code "integer"}, {@code "number"}, {@code "boolean"}, a type name,
 * {@code "[T]"} (a list of T), or an object: {@code {"type": "integer", "min": 1, "max": 32}} (a bounded number),
 * {@code {"enum": [...]}} (a string from the list; {@code "ignore_case": true} when Firecracker documents the
 * values as case-insensitive) or {@code {"map": T}} (an object with any keys whose values are T). Reading the
 * file checks it: unknown keys and type names that are not defined are refused.
 *
 * <p>The validator is strict about unknown fields (real Firecracker deserializes with serde's
 * {@code deny_unknown_fields}), treats {@code null} in an optional field as absent (serde's {@code None}), and
 * words each problem as serde would.
 */
public final class FirecrackerApiSpec {

    static final String RESOURCE = "/firecracker/api.json";

    /** One thing wrong with a body; {@link #serde()} words it as Firecracker's deserializer would. */
    public record Problem(Kind kind, String field, String detail) {
        enum Kind { MISSING, UNKNOWN, TYPE, ENUM, RANGE, CHOICE }

        String serde() {
            return switch (kind) {
                case MISSING -> "missing field `" + field.substring(field.lastIndexOf('.') + 1) + "`";
                case UNKNOWN, TYPE, ENUM, RANGE, CHOICE -> detail;
            };
        }

        @Override
        public String toString() {
            return field + ": " + serde();
        }
    }

    /**
     * One endpoint of the API.
     *
     * @param body the request body's type, empty when it takes none or when {@code described} is false
     * @param answer the type of its 200 answer, empty when success is a 204
     * @param described whether its body and answer are described here
     */
    record Endpoint(String method, String template, Optional<String> body, Optional<String> answer,
                    boolean described) {
    }

    /**
     * What a status of an endpoint's answer carries.
     *
     * @param type the type of the answer's body, or null for an answer with no body
     */
    record Answer(int status, String type) {
    }

    /** The expected shape of a value. */
    sealed interface Shape permits Scalar, Choice, ListOf, MapOf, Named, Struct {
    }

    /** {@code string}, {@code integer}, {@code number} or {@code boolean}; bounds are null when absent. */
    record Scalar(String kind, BigDecimal min, BigDecimal max) implements Shape {
    }

    /** A string from {@code values}. */
    record Choice(List<String> values, boolean ignoreCase) implements Shape {
    }

    record ListOf(Shape item) implements Shape {
    }

    record MapOf(Shape value) implements Shape {
    }

    /** A reference to a type of the spec. */
    record Named(String name) implements Shape {
    }

    record Struct(Map<String, Shape> fields, List<String> required, List<String> exactlyOneOf) implements Shape {
    }

    private static final Set<String> SCALARS = Set.of("string", "integer", "number", "boolean");

    private final String version;
    private final List<Endpoint> endpoints;
    private final Map<String, Shape> types;

    private FirecrackerApiSpec(String version, List<Endpoint> endpoints, Map<String, Shape> types) {
        this.version = version;
        this.endpoints = endpoints;
        this.types = types;
    }

    /** The project's description, {@value #RESOURCE} on the class path. */
    public static FirecrackerApiSpec load() {
        try (InputStream in = FirecrackerApiSpec.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is not on the class path (src/test/resources)");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    static FirecrackerApiSpec parse(String json) {
        Map<String, Object> root = object(Json.parseTree(json), "the document");
        keys(root, "the document", "about", "upstream", "endpoints", "endpoints_not_described", "types");
        Map<String, Object> upstream = object(root.get("upstream"), "upstream");
        if (!(upstream.get("version") instanceof String version)) {
            throw bad("upstream.version is missing");
        }

        Map<String, Shape> types = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : object(root.get("types"), "types").entrySet()) {
            types.put(e.getKey(), typeDefinition(e.getKey(), object(e.getValue(), "type " + e.getKey())));
        }

        List<Endpoint> endpoints = new ArrayList<>();
        for (Map.Entry<String, Object> e : object(root.get("endpoints"), "endpoints").entrySet()) {
            Map<String, Object> def = object(e.getValue(), "endpoint " + e.getKey());
            keys(def, "endpoint " + e.getKey(), "body", "answer");
            String[] route = route(e.getKey());
            endpoints.add(new Endpoint(route[0], route[1], Optional.ofNullable((String) def.get("body")),
                    Optional.ofNullable((String) def.get("answer")), true));
        }
        for (Object key : strings(root.get("endpoints_not_described"), "endpoints_not_described")) {
            String[] route = route((String) key);
            endpoints.add(new Endpoint(route[0], route[1], Optional.empty(), Optional.empty(), false));
        }

        FirecrackerApiSpec spec = new FirecrackerApiSpec(version, List.copyOf(endpoints), Map.copyOf(types));
        spec.checkReferences();
        return spec;
    }

    /** The upstream Firecracker version this description follows. */
    String version() {
        return version;
    }

    /** The struct or enum named {@code name}. */
    Shape type(String name) {
        Shape type = types.get(name);
        if (type == null) {
            throw new IllegalArgumentException("no type " + name + " in " + RESOURCE);
        }
        return type;
    }

    /** The struct named {@code name}. */
    Struct struct(String name) {
        if (!(type(name) instanceof Struct s)) {
            throw new IllegalArgumentException(name + " is not a struct in " + RESOURCE);
        }
        return s;
    }

    /** The endpoint for {@code method} on a concrete path ({@code /drives/root} matches {@code /drives/{drive_id}}). */
    Optional<Endpoint> endpoint(String method, String path) {
        return endpoints.stream()
                .filter(e -> e.method().equalsIgnoreCase(method) && templateMatches(e.template(), path))
                .findFirst();
    }

    /** The type of the request body of an endpoint, if it is described and takes one. */
    public Optional<String> bodyType(String method, String path) {
        return endpoint(method, path).flatMap(Endpoint::body);
    }

    /** What an answer with {@code status} carries, if the endpoint declares that status. */
    Optional<Answer> answer(String method, String path, int status) {
        return endpoint(method, path).flatMap(e -> {
            if (status >= 400) {
                return Optional.of(new Answer(status, "Error"));
            }
            if (status == 200 && e.answer().isPresent()) {
                return Optional.of(new Answer(200, e.answer().get()));
            }
            if (status == 204 && e.body().isPresent()) {
                return Optional.of(new Answer(204, null));
            }
            return Optional.empty();
        });
    }

    /** Every problem of {@code value} against the type named {@code type}. */
    public List<Problem> validate(Object value, String type) {
        List<Problem> problems = new ArrayList<>();
        check(value, new Named(type), "", problems);
        return problems;
    }

    private void check(Object value, Shape shape, String where, List<Problem> out) {
        String field = where.isEmpty() ? "(body)" : where;
        if (shape instanceof Named n) {
            check(value, type(n.name()), where, out);
        } else if (shape instanceof Struct s) {
            checkStruct(value, s, where, out);
        } else if (shape instanceof ListOf l) {
            if (!(value instanceof List<?> items)) {
                out.add(typeProblem(field, value, "a sequence"));
                return;
            }
            for (int i = 0; i < items.size(); i++) {
                check(items.get(i), l.item(), where + "[" + i + "]", out);
            }
        } else if (shape instanceof MapOf m) {
            if (!(value instanceof Map<?, ?> obj)) {
                out.add(typeProblem(field, value, "a map"));
                return;
            }
            for (Map.Entry<?, ?> e : obj.entrySet()) {
                check(e.getValue(), m.value(), join(where, (String) e.getKey()), out);
            }
        } else if (shape instanceof Choice c) {
            if (!(value instanceof String s)) {
                out.add(typeProblem(field, value, "a string"));
                return;
            }
            if (c.values().stream().noneMatch(a -> c.ignoreCase() ? a.equalsIgnoreCase(s) : a.equals(s))) {
                out.add(new Problem(Problem.Kind.ENUM, field, "unknown variant `" + s + "`, expected "
                        + expected(c.values())));
            }
        } else {
            checkScalar(value, (Scalar) shape, field, out);
        }
    }

    private void checkStruct(Object value, Struct s, String where, List<Problem> out) {
        if (!(value instanceof Map<?, ?> obj)) {
            out.add(typeProblem(where.isEmpty() ? "(body)" : where, value, "struct"));
            return;
        }
        for (String required : s.required()) {
            if (!obj.containsKey(required)) {
                out.add(new Problem(Problem.Kind.MISSING, join(where, required), null));
            }
        }
        if (!s.exactlyOneOf().isEmpty()
                && s.exactlyOneOf().stream().filter(f -> obj.get(f) != null).count() != 1) {
            out.add(new Problem(Problem.Kind.CHOICE, where.isEmpty() ? "(body)" : where,
                    "exactly one of " + String.join(", ", s.exactlyOneOf().stream().map(f -> "`" + f + "`")
                            .toList()) + " is required"));
        }
        for (Map.Entry<?, ?> e : obj.entrySet()) {
            String name = (String) e.getKey();
            Shape fieldShape = s.fields().get(name);
            if (fieldShape == null) {
                out.add(new Problem(Problem.Kind.UNKNOWN, join(where, name), "unknown field `" + name
                        + "`, expected " + expected(s.fields().keySet())));
            } else if (e.getValue() != null || s.required().contains(name)) {
                check(e.getValue(), fieldShape, join(where, name), out);
            }
        }
    }

    private static void checkScalar(Object value, Scalar sc, String field, List<Problem> out) {
        switch (sc.kind()) {
            case "string" -> {
                if (!(value instanceof String)) {
                    out.add(typeProblem(field, value, "a string"));
                }
            }
            case "boolean" -> {
                if (!(value instanceof Boolean)) {
                    out.add(typeProblem(field, value, "a boolean"));
                }
            }
            case "integer" -> {
                if (!(value instanceof Long)
                        && !(value instanceof BigDecimal bd && bd.stripTrailingZeros().scale() <= 0)) {
                    out.add(typeProblem(field, value, "an integer"));
                    return;
                }
                range(value instanceof Long l ? BigDecimal.valueOf(l) : (BigDecimal) value, sc, field, out);
            }
            case "number" -> {
                if (!(value instanceof Number)) {
                    out.add(typeProblem(field, value, "a number"));
                    return;
                }
                range(new BigDecimal(value.toString()), sc, field, out);
            }
            default -> throw new IllegalStateException(sc.kind());
        }
    }

    private static void range(BigDecimal n, Scalar sc, String field, List<Problem> out) {
        if (sc.min() != null && n.compareTo(sc.min()) < 0) {
            out.add(new Problem(Problem.Kind.RANGE, field, "`" + field + "` must be at least " + sc.min()
                    + ", got " + n));
        }
        if (sc.max() != null && n.compareTo(sc.max()) > 0) {
            out.add(new Problem(Problem.Kind.RANGE, field, "`" + field + "` must be at most " + sc.max()
                    + ", got " + n));
        }
    }

    private static Problem typeProblem(String field, Object value, String expected) {
        String got;
        if (value == null) {
            got = "null";
        } else if (value instanceof String s) {
            got = "string \"" + s + "\"";
        } else if (value instanceof Boolean b) {
            got = "boolean `" + b + "`";
        } else if (value instanceof Number n) {
            got = (n instanceof Long ? "integer `" : "floating point `") + n + "`";
        } else if (value instanceof List<?>) {
            got = "sequence";
        } else {
            got = "map";
        }
        return new Problem(Problem.Kind.TYPE, field, "invalid type: " + got + ", expected " + expected);
    }

    private static String expected(Iterable<?> names) {
        List<String> quoted = new ArrayList<>();
        for (Object n : names) {
            quoted.add("`" + n + "`");
        }
        return quoted.isEmpty() ? "nothing" : "one of " + String.join(", ", quoted);
    }

    private static String join(String where, String name) {
        return where.isEmpty() ? name : where + "." + name;
    }

    static boolean templateMatches(String template, String path) {
        String[] t = template.split("/", -1);
        String[] p = path.split("/", -1);
        if (t.length != p.length) {
            return false;
        }
        for (int i = 0; i < t.length; i++) {
            boolean variable = t[i].startsWith("{") && t[i].endsWith("}");
            if (variable ? p[i].isEmpty() : !t[i].equals(p[i])) {
                return false;
            }
        }
        return true;
    }

    // ---- reading the file ----

    private static Shape typeDefinition(String name, Map<String, Object> def) {
        String what = "type " + name;
        if (def.containsKey("enum")) {
            keys(def, what, "enum", "ignore_case");
            return choice(def, what);
        }
        keys(def, what, "fields", "required", "exactly_one_of");
        Map<String, Shape> fields = new LinkedHashMap<>();
        for (Map.Entry<String, Object> f : object(def.get("fields"), what + " fields").entrySet()) {
            fields.put(f.getKey(), fieldType(f.getValue(), what + " field " + f.getKey()));
        }
        List<String> required = strings(def.get("required"), what + " required");
        List<String> oneOf = strings(def.get("exactly_one_of"), what + " exactly_one_of");
        for (String f : concat(required, oneOf)) {
            if (!fields.containsKey(f)) {
                throw bad(what + " names " + f + ", which is not one of its fields");
            }
        }
        return new Struct(fields, required, oneOf);
    }

    private static Shape fieldType(Object t, String what) {
        if (t instanceof String s) {
            if (s.startsWith("[") && s.endsWith("]")) {
                return new ListOf(fieldType(s.substring(1, s.length() - 1), what));
            }
            return SCALARS.contains(s) ? new Scalar(s, null, null) : new Named(s);
        }
        Map<String, Object> def = object(t, what);
        if (def.containsKey("enum")) {
            keys(def, what, "enum", "ignore_case");
            return choice(def, what);
        }
        if (def.containsKey("map")) {
            keys(def, what, "map");
            return new MapOf(fieldType(def.get("map"), what));
        }
        keys(def, what, "type", "min", "max");
        if (!"integer".equals(def.get("type")) && !"number".equals(def.get("type"))) {
            throw bad(what + ": a bounded type is an integer or a number, not " + def.get("type"));
        }
        return new Scalar((String) def.get("type"), bound(def.get("min"), what), bound(def.get("max"), what));
    }

    private static Choice choice(Map<String, Object> def, String what) {
        List<String> values = strings(def.get("enum"), what + " enum");
        if (values.isEmpty()) {
            throw bad(what + ": an enum needs values");
        }
        return new Choice(values, Boolean.TRUE.equals(def.get("ignore_case")));
    }

    private static BigDecimal bound(Object n, String what) {
        if (n == null) {
            return null;
        }
        if (!(n instanceof Number)) {
            throw bad(what + ": a bound is a number, not " + n);
        }
        return new BigDecimal(n.toString());
    }

    private void checkReferences() {
        for (Endpoint e : endpoints) {
            for (String t : concat(e.body().stream().toList(), e.answer().stream().toList())) {
                if (!types.containsKey(t)) {
                    throw bad("endpoint " + e.method() + " " + e.template() + " names type " + t
                            + ", which is not defined");
                }
            }
        }
        for (Map.Entry<String, Shape> t : types.entrySet()) {
            if (t.getValue() instanceof Struct s) {
                s.fields().forEach((field, shape) -> checkReference(shape, "type " + t.getKey() + " field " + field));
            }
        }
        if (!types.containsKey("Error")) {
            throw bad("the Error type every endpoint answers with is not defined");
        }
    }

    private void checkReference(Shape shape, String what) {
        if (shape instanceof Named n && !types.containsKey(n.name())) {
            throw bad(what + " names type " + n.name() + ", which is not defined");
        } else if (shape instanceof ListOf l) {
            checkReference(l.item(), what);
        } else if (shape instanceof MapOf m) {
            checkReference(m.value(), what);
        }
    }

    private static String[] route(String key) {
        String[] route = key.split(" ", -1);
        if (route.length != 2 || !Set.of("GET", "PUT", "PATCH").contains(route[0]) || !route[1].startsWith("/")) {
            throw bad("endpoint \"" + key + "\" is not \"GET|PUT|PATCH /path\"");
        }
        return route;
    }

    private static void keys(Map<String, Object> def, String what, String... allowed) {
        for (String k : def.keySet()) {
            if (!List.of(allowed).contains(k)) {
                throw bad(what + " has an unknown key \"" + k + "\" (allowed: " + String.join(", ", allowed) + ")");
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object o, String what) {
        if (!(o instanceof Map<?, ?>)) {
            throw bad(what + " is not a JSON object");
        }
        return (Map<String, Object>) o;
    }

    private static List<String> strings(Object o, String what) {
        if (o == null) {
            return List.of();
        }
        if (!(o instanceof List<?> list) || !list.stream().allMatch(String.class::isInstance)) {
            throw bad(what + " is not a list of strings");
        }
        return list.stream().map(String.class::cast).toList();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static IllegalArgumentException bad(String what) {
        return new IllegalArgumentException(RESOURCE + ": " + what);
    }
}
