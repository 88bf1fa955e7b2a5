package dev.banger.vmm.firecracker;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Firecracker's published API description ({@code firecracker.yaml}, swagger 2.0) read with a YAML subset
 * reader, and a validator for JSON trees (as {@link dev.banger.json.Json#parseTree} makes them) against its
 * definitions. The fake Firecracker uses it to refuse what the real one refuses, and tests use it to check every
 * body the driver sends.
 *
 * <p>The reader handles what that file uses: block mappings and sequences by indentation, plain scalars over
 * several lines, quoted scalars, {@code >-} and {@code |} block scalars, one-line flow sequences and comments.
 * Scalars stay strings. The validator is strict about unknown fields (real Firecracker deserializes with serde's
 * {@code deny_unknown_fields}) unless a schema has {@code additionalProperties}, and compares enums ignoring case
 * where the field's description says the values are case-insensitive (Logger.level).
 */
final class Swagger {

    /** One thing wrong with a body; {@link #serde()} words it as Firecracker's deserializer would. */
    record Problem(Kind kind, String field, String detail) {
        enum Kind { MISSING, UNKNOWN, TYPE, ENUM, RANGE }

        String serde() {
            return switch (kind) {
                case MISSING -> "missing field `" + field + "`";
                case UNKNOWN, TYPE, ENUM, RANGE -> detail;
            };
        }

        @Override
        public String toString() {
            return field + ": " + serde();
        }
    }

    private final Map<String, Object> root;

    private Swagger(Map<String, Object> root) {
        this.root = root;
    }

    /** The copy beside the repository: {@code <banger.root>/../shared/reference/firecracker-swagger.yaml}. */
    static Path defaultPath() {
        String repo = System.getProperty("banger.root");
        Path base = repo == null || repo.isBlank() ? Path.of("").toAbsolutePath() : Path.of(repo);
        return base.resolve("../shared/reference/firecracker-swagger.yaml").normalize();
    }

    static Swagger load() throws IOException {
        return load(defaultPath());
    }

    static Swagger load(Path file) throws IOException {
        return parse(Files.readString(file, StandardCharsets.UTF_8));
    }

    @SuppressWarnings("unchecked")
    static Swagger parse(String yaml) {
        Object tree = new Reader(yaml).document();
        if (!(tree instanceof Map<?, ?>)) {
            throw new IllegalArgumentException("swagger document is not a mapping");
        }
        return new Swagger((Map<String, Object>) tree);
    }

    Map<String, Object> root() {
        return root;
    }

    String version() {
        return (String) map(root.get("info")).get("version");
    }

    Map<String, Object> definition(String name) {
        Object def = map(root.get("definitions")).get(name);
        if (def == null) {
            throw new IllegalArgumentException("no definition " + name + " in the swagger");
        }
        return map(def);
    }

    /** The operation for {@code method} on a concrete path ({@code /drives/root} matches {@code /drives/{drive_id}}). */
    Optional<Map<String, Object>> operation(String method, String path) {
        Map<String, Object> paths = map(root.get("paths"));
        for (Map.Entry<String, Object> e : paths.entrySet()) {
            if (templateMatches(e.getKey(), path)) {
                Object op = map(e.getValue()).get(method.toLowerCase(Locale.ROOT));
                return Optional.ofNullable(op == null ? null : map(op));
            }
        }
        return Optional.empty();
    }

    /** The schema of the {@code in: body} parameter of an operation, if it takes one. */
    Optional<Map<String, Object>> bodySchema(String method, String path) {
        return operation(method, path).flatMap(op -> {
            Object params = op.get("parameters");
            if (params instanceof List<?> list) {
                for (Object p : list) {
                    Map<String, Object> param = map(p);
                    if ("body".equals(param.get("in"))) {
                        return Optional.of(map(param.get("schema")));
                    }
                }
            }
            return Optional.empty();
        });
    }

    /** The response declared for {@code status} (or {@code default}), if any. */
    Optional<Map<String, Object>> response(String method, String path, int status) {
        return operation(method, path).flatMap(op -> {
            Map<String, Object> responses = map(op.get("responses"));
            Object r = responses.get(Integer.toString(status));
            if (r == null) {
                r = responses.get("default");
            }
            return Optional.ofNullable(r == null ? null : map(r));
        });
    }

    /** Every problem of {@code value} against {@code schema} (a definition or an inline schema, $ref resolved). */
    List<Problem> validate(Object value, Map<String, Object> schema) {
        List<Problem> problems = new ArrayList<>();
        check(value, schema, "", null, problems);
        return problems;
    }

    List<Problem> validate(Object value, String definition) {
        return validate(value, definition(definition));
    }

    private void check(Object value, Map<String, Object> schema, String where, String description,
                       List<Problem> out) {
        Object ref = schema.get("$ref");
        if (ref instanceof String r) {
            String prefix = "#/definitions/";
            if (!r.startsWith(prefix)) {
                throw new IllegalArgumentException("unsupported $ref " + r);
            }
            check(value, definition(r.substring(prefix.length())), where, description, out);
            return;
        }
        String type = (String) schema.get("type");
        if (type == null && schema.containsKey("properties")) {
            type = "object";
        }
        if (type == null) {
            return;
        }
        String field = where.isEmpty() ? "(body)" : where;
        switch (type) {
            case "object" -> {
                if (!(value instanceof Map<?, ?> obj)) {
                    out.add(typeProblem(field, value, "struct"));
                    return;
                }
                Map<String, Object> properties = schema.get("properties") == null ? Map.of()
                        : map(schema.get("properties"));
                Object additional = schema.get("additionalProperties");
                for (Object required : list(schema.get("required"))) {
                    if (!obj.containsKey(required)) {
                        out.add(new Problem(Problem.Kind.MISSING, join(where, (String) required), null));
                    }
                }
                for (Map.Entry<?, ?> e : obj.entrySet()) {
                    String name = (String) e.getKey();
                    Object prop = properties.get(name);
                    if (prop == null) {
                        if (additional instanceof Map<?, ?> addSchema) {
                            check(e.getValue(), map(addSchema), join(where, name), null, out);
                        } else if (!"true".equals(additional)) {
                            out.add(new Problem(Problem.Kind.UNKNOWN, join(where, name), "unknown field `" + name
                                    + "`, expected " + expected(properties.keySet())));
                        }
                        continue;
                    }
                    Map<String, Object> propSchema = map(prop);
                    if (e.getValue() == null && !list(schema.get("required")).contains(name)) {
                        continue; // serde reads null as None for optional fields
                    }
                    check(e.getValue(), propSchema, join(where, name), (String) propSchema.get("description"), out);
                }
            }
            case "array" -> {
                if (!(value instanceof List<?> items)) {
                    out.add(typeProblem(field, value, "a sequence"));
                    return;
                }
                Map<String, Object> itemSchema = schema.get("items") == null ? Map.of() : map(schema.get("items"));
                for (int i = 0; i < items.size(); i++) {
                    check(items.get(i), itemSchema, where + "[" + i + "]", null, out);
                }
            }
            case "string" -> {
                if (!(value instanceof String s)) {
                    out.add(typeProblem(field, value, "a string"));
                    return;
                }
                List<Object> allowed = list(schema.get("enum"));
                if (!allowed.isEmpty()) {
                    boolean ignoreCase = description != null && description.contains("case-insensitive");
                    boolean ok = allowed.stream().anyMatch(a -> ignoreCase ? ((String) a).equalsIgnoreCase(s)
                            : a.equals(s));
                    if (!ok) {
                        out.add(new Problem(Problem.Kind.ENUM, field, "unknown variant `" + s + "`, expected "
                                + expected(allowed)));
                    }
                }
            }
            case "integer" -> {
                if (!(value instanceof Long) && !(value instanceof BigDecimal bd && bd.stripTrailingZeros().scale() <= 0)) {
                    out.add(typeProblem(field, value, "an integer"));
                    return;
                }
                BigDecimal n = value instanceof Long l ? BigDecimal.valueOf(l) : (BigDecimal) value;
                range(n, schema, field, out);
            }
            case "number" -> {
                if (!(value instanceof Number)) {
                    out.add(typeProblem(field, value, "a number"));
                    return;
                }
                range(new BigDecimal(value.toString()), schema, field, out);
            }
            case "boolean" -> {
                if (!(value instanceof Boolean)) {
                    out.add(typeProblem(field, value, "a boolean"));
                }
            }
            default -> throw new IllegalArgumentException("unsupported swagger type " + type + " at " + field);
        }
    }

    private static void range(BigDecimal n, Map<String, Object> schema, String field, List<Problem> out) {
        if (schema.get("minimum") instanceof String min && n.compareTo(new BigDecimal(min)) < 0) {
            out.add(new Problem(Problem.Kind.RANGE, field, "`" + field + "` must be at least " + min + ", got " + n));
        }
        if (schema.get("maximum") instanceof String max && n.compareTo(new BigDecimal(max)) > 0) {
            out.add(new Problem(Problem.Kind.RANGE, field, "`" + field + "` must be at most " + max + ", got " + n));
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

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        if (!(o instanceof Map<?, ?>)) {
            throw new IllegalArgumentException("expected a mapping, got " + o);
        }
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return o instanceof List<?> l ? (List<Object>) l : List.of();
    }

    /** The YAML subset reader. */
    private static final class Reader {

        private static final Pattern KEY = Pattern.compile("(\"[^\"]*\"|'[^']*'|[^\\s\"'#\\-][^:]*?|-[^\\s:][^:]*?)"
                + ":(?:\\s+(.*))?");

        private record Line(int number, int indent, String text) {
        }

        private final List<Line> lines = new ArrayList<>();
        private int pos;

        Reader(String yaml) {
            String[] raw = yaml.split("\r?\n", -1);
            for (int i = 0; i < raw.length; i++) {
                String text = raw[i];
                int indent = 0;
                while (indent < text.length() && text.charAt(indent) == ' ') {
                    indent++;
                }
                lines.add(new Line(i + 1, indent, text.substring(indent)));
            }
        }

        Object document() {
            skipBlank();
            if (pos >= lines.size()) {
                return null;
            }
            Object node = block(lines.get(pos).indent());
            skipBlank();
            if (pos < lines.size()) {
                throw error(lines.get(pos), "unexpected content");
            }
            return node;
        }

        /** A mapping or sequence whose entries start at exactly {@code indent}. */
        private Object block(int indent) {
            Line first = lines.get(pos);
            if (isSequenceItem(first.text())) {
                return sequence(indent);
            }
            return mapping(indent);
        }

        private List<Object> sequence(int indent) {
            List<Object> items = new ArrayList<>();
            while (true) {
                skipBlank();
                if (pos >= lines.size()) {
                    return items;
                }
                Line line = lines.get(pos);
                if (line.indent() != indent || !isSequenceItem(line.text())) {
                    if (line.indent() > indent) {
                        throw error(line, "bad indentation in a sequence");
                    }
                    return items;
                }
                String rest = line.text().equals("-") ? "" : line.text().substring(2);
                int itemIndent = indent + 2;
                if (rest.isBlank()) {
                    pos++;
                    skipBlank();
                    items.add(pos < lines.size() && lines.get(pos).indent() > indent
                            ? block(lines.get(pos).indent()) : null);
                } else if (KEY.matcher(stripComment(rest)).matches() && !isQuoted(rest)) {
                    // "- key: value" starts a mapping whose entries sit two columns in.
                    lines.set(pos, new Line(line.number(), itemIndent, rest));
                    items.add(mapping(itemIndent));
                } else if (rest.startsWith("[")) {
                    pos++;
                    items.add(flow(stripComment(rest), line));
                } else {
                    pos++;
                    items.add(scalar(stripComment(rest), indent, line));
                }
            }
        }

        private Map<String, Object> mapping(int indent) {
            Map<String, Object> map = new LinkedHashMap<>();
            while (true) {
                skipBlank();
                if (pos >= lines.size()) {
                    return map;
                }
                Line line = lines.get(pos);
                if (line.indent() < indent || (line.indent() == indent && isSequenceItem(line.text()))) {
                    return map;
                }
                if (line.indent() > indent) {
                    throw error(line, "bad indentation in a mapping");
                }
                Matcher m = KEY.matcher(stripComment(line.text()));
                if (!m.matches()) {
                    throw error(line, "expected \"key: value\"");
                }
                String key = unquote(m.group(1).strip());
                String rest = m.group(2) == null ? "" : m.group(2).strip();
                pos++;
                Object value;
                if (rest.isEmpty()) {
                    value = nested(indent, line);
                } else if (rest.startsWith("[")) {
                    value = flow(rest, line);
                } else if (rest.equals(">-") || rest.equals(">") || rest.equals("|") || rest.equals("|-")) {
                    value = blockScalar(indent, rest.startsWith(">"));
                } else {
                    value = scalar(rest, indent, line);
                }
                if (map.put(key, value) != null) {
                    throw error(line, "duplicate key " + key);
                }
            }
        }

        /** After "key:" with nothing else: a nested block, a sequence at the same indent, a scalar, or null. */
        private Object nested(int indent, Line keyLine) {
            skipBlank();
            if (pos >= lines.size()) {
                return null;
            }
            Line next = lines.get(pos);
            if (next.indent() == indent && isSequenceItem(next.text())) {
                return sequence(indent);
            }
            if (next.indent() <= indent) {
                return null;
            }
            String text = stripComment(next.text());
            if (isSequenceItem(next.text()) || (KEY.matcher(text).matches() && !isQuoted(text))) {
                return block(next.indent());
            }
            return scalar(null, indent, keyLine);
        }

        /** A plain or quoted scalar starting with {@code first}, continued by lines indented past {@code indent}. */
        private String scalar(String first, int indent, Line at) {
            StringBuilder sb = new StringBuilder(first == null ? "" : first);
            while (pos < lines.size()) {
                Line next = lines.get(pos);
                if (!next.text().isBlank() && next.indent() <= indent) {
                    break;
                }
                if (next.text().isBlank()) {
                    // A blank line ends the scalar unless more indented text follows.
                    int look = pos;
                    while (look < lines.size() && lines.get(look).text().isBlank()) {
                        look++;
                    }
                    if (look >= lines.size() || lines.get(look).indent() <= indent) {
                        break;
                    }
                    sb.append('\n');
                    pos = look;
                    continue;
                }
                if (next.text().startsWith("#")) {
                    pos++;
                    continue;
                }
                if (sb.length() > 0 && sb.charAt(sb.length() - 1) != '\n') {
                    sb.append(' ');
                }
                sb.append(next.text().strip());
                pos++;
            }
            String s = sb.toString().strip();
            if (s.startsWith("[") && s.endsWith("]")) {
                throw error(at, "flow sequences must be read with flow()");
            }
            return unquote(s);
        }

        /** A one-line flow sequence of scalars: {@code [a, "b"]}. */
        private List<Object> flow(String text, Line at) {
            if (!text.endsWith("]")) {
                throw error(at, "flow sequences must fit on one line");
            }
            List<Object> items = new ArrayList<>();
            StringBuilder cur = new StringBuilder();
            boolean quoted = false;
            for (char c : text.substring(1, text.length() - 1).toCharArray()) {
                if (c == '"') {
                    quoted = !quoted;
                }
                if (c == ',' && !quoted) {
                    items.add(unquote(cur.toString().strip()));
                    cur.setLength(0);
                } else {
                    cur.append(c);
                }
            }
            if (!cur.toString().isBlank()) {
                items.add(unquote(cur.toString().strip()));
            }
            return items;
        }

        private String blockScalar(int indent, boolean folded) {
            StringBuilder sb = new StringBuilder();
            while (pos < lines.size()) {
                Line next = lines.get(pos);
                if (!next.text().isBlank() && next.indent() <= indent) {
                    break;
                }
                if (sb.length() > 0) {
                    sb.append(folded ? ' ' : '\n');
                }
                sb.append(next.text().strip());
                pos++;
            }
            return sb.toString().strip();
        }

        private void skipBlank() {
            while (pos < lines.size() && (lines.get(pos).text().isBlank() || lines.get(pos).text().startsWith("#"))) {
                pos++;
            }
        }

        private static boolean isSequenceItem(String text) {
            return text.equals("-") || text.startsWith("- ");
        }

        private static boolean isQuoted(String text) {
            return text.startsWith("\"") || text.startsWith("'");
        }

        /** Drops a " #" comment outside quotes. */
        private static String stripComment(String text) {
            boolean single = false;
            boolean dbl = false;
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '\'' && !dbl) {
                    single = !single;
                } else if (c == '"' && !single) {
                    dbl = !dbl;
                } else if (c == '#' && !single && !dbl && (i == 0 || text.charAt(i - 1) == ' ')) {
                    return text.substring(0, i).stripTrailing();
                }
            }
            return text;
        }

        private IllegalArgumentException error(Line line, String what) {
            return new IllegalArgumentException("swagger line " + line.number() + ": " + what + ": " + line.text());
        }
    }

    /** A scalar's value: quotes removed; a one-line flow sequence becomes a list of strings. */
    private static String unquote(String s) {
        if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
            return s.substring(1, s.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
        }
        if (s.length() >= 2 && s.startsWith("'") && s.endsWith("'")) {
            return s.substring(1, s.length() - 1).replace("''", "'");
        }
        return s;
    }
}
