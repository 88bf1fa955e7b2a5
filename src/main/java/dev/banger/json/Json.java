package dev.banger.json;

import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * banger's JSON: RPC frames, {@code --json} output, store columns and scratch files. Records map to objects by
 * component name (nulls omitted when writing, absent fields read as null/0/false); unknown fields are an error,
 * so a typo in a request is reported, not ignored. Also: String, booleans, numbers, enums (by name), byte[]
 * (base64), int[]/long[], {@link Path}, {@link Instant} (ISO-8601), {@code List<T>}, {@code Map<String,T>},
 * and sealed interfaces whose records carry {@link WireName} (a {@code "type"} field selects the record).
 *
 * <p>Small on purpose: the CLI is a JVM started for every command, and a general-purpose JSON library costs
 * more start-up time than the whole rest of the CLI.
 */
public final class Json {

    private static final String TYPE_FIELD = "type";
    private static final Map<Class<?>, RecordInfo> RECORDS = new ConcurrentHashMap<>();

    private Json() {
    }

    public static String write(Object value) {
        return JsonWriter.write(toTree(value), false);
    }

    public static byte[] writeBytes(Object value) {
        return write(value).getBytes(StandardCharsets.UTF_8);
    }

    /** Indented, for people ({@code --json} output). */
    public static String writePretty(Object value) {
        return JsonWriter.write(toTree(value), true);
    }

    public static <T> T read(String text, Class<T> type) {
        return fromTree(parseTree(text), type);
    }

    public static <T> T read(byte[] utf8, Class<T> type) {
        return read(new String(utf8, StandardCharsets.UTF_8), type);
    }

    /** Parses text into a tree of maps, lists, strings, numbers (Long or BigDecimal), booleans and nulls. */
    public static Object parseTree(String text) {
        return JsonParser.parse(text);
    }

    /** Converts a value into a tree; records become insertion-ordered maps. */
    public static Object toTree(Object value) {
        if (value == null || value instanceof String || value instanceof Boolean) {
            return value;
        }
        if (value instanceof Number n) {
            if (n instanceof Double d && (d.isNaN() || d.isInfinite())) {
                throw new JsonException("cannot write " + d + " as JSON");
            }
            return n;
        }
        if (value instanceof Enum<?> e) {
            return e.name();
        }
        if (value instanceof byte[] bytes) {
            return Base64.getEncoder().encodeToString(bytes);
        }
        if (value instanceof Path || value instanceof Instant) {
            return value.toString();
        }
        if (value.getClass().isArray()) {
            int length = Array.getLength(value);
            List<Object> list = new ArrayList<>(length);
            for (int i = 0; i < length; i++) {
                list.add(toTree(Array.get(value, i)));
            }
            return list;
        }
        if (value instanceof Collection<?> c) {
            List<Object> list = new ArrayList<>(c.size());
            for (Object item : c) {
                list.add(toTree(item));
            }
            return list;
        }
        if (value instanceof Map<?, ?> m) {
            Map<String, Object> map = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new JsonException("map keys must be strings, got " + e.getKey());
                }
                map.put(key, toTree(e.getValue()));
            }
            return map;
        }
        if (value instanceof Record r) {
            RecordInfo info = recordInfo(r.getClass());
            Map<String, Object> map = new LinkedHashMap<>();
            if (info.wireName != null) {
                map.put(TYPE_FIELD, info.wireName);
            }
            for (RecordComponent c : info.components) {
                Object field;
                try {
                    field = c.getAccessor().invoke(r);
                } catch (IllegalAccessException | InvocationTargetException e) {
                    throw new JsonException("cannot read " + info.type.getSimpleName() + "." + c.getName()
                            + ": " + e);
                }
                if (field != null) {
                    map.put(c.getName(), toTree(field));
                }
            }
            return map;
        }
        throw new JsonException("cannot write a " + value.getClass().getName() + " as JSON");
    }

    /** Converts a tree into {@code type}. @throws JsonException naming the field that does not fit */
    public static <T> T fromTree(Object tree, Class<T> type) {
        @SuppressWarnings("unchecked")
        T value = (T) convert(tree, type, type.getSimpleName());
        return value;
    }

    private static Object convert(Object tree, Type type, String where) {
        if (type instanceof ParameterizedType p) {
            Class<?> raw = (Class<?>) p.getRawType();
            if (tree == null) {
                return null;
            }
            if (List.class.isAssignableFrom(raw) || raw == Collection.class) {
                List<?> items = expect(tree, List.class, where, "an array");
                List<Object> list = new ArrayList<>(items.size());
                for (int i = 0; i < items.size(); i++) {
                    list.add(convert(items.get(i), p.getActualTypeArguments()[0], where + "[" + i + "]"));
                }
                return list;
            }
            if (Map.class.isAssignableFrom(raw)) {
                Map<?, ?> entries = expect(tree, Map.class, where, "an object");
                Map<String, Object> map = new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : entries.entrySet()) {
                    map.put((String) e.getKey(), convert(e.getValue(), p.getActualTypeArguments()[1],
                            where + "." + e.getKey()));
                }
                return map;
            }
            throw new JsonException(where + ": unsupported type " + type);
        }
        if (type instanceof GenericArrayType) {
            throw new JsonException(where + ": unsupported type " + type);
        }
        Class<?> cls = (Class<?>) type;
        if (cls.isPrimitive()) {
            return primitive(tree, cls, where);
        }
        if (tree == null) {
            return null;
        }
        if (cls == Object.class) {
            return tree;
        }
        if (cls == String.class) {
            return expect(tree, String.class, where, "a string");
        }
        if (cls == Boolean.class || cls == Integer.class || cls == Long.class || cls == Double.class) {
            return primitive(tree, unbox(cls), where);
        }
        if (cls == byte[].class) {
            try {
                return Base64.getDecoder().decode(expect(tree, String.class, where, "a base64 string"));
            } catch (IllegalArgumentException e) {
                throw new JsonException(where + ": not valid base64");
            }
        }
        if (cls.isArray() && cls.getComponentType().isPrimitive()) {
            List<?> items = expect(tree, List.class, where, "an array");
            Object array = Array.newInstance(cls.getComponentType(), items.size());
            for (int i = 0; i < items.size(); i++) {
                Array.set(array, i, primitive(items.get(i), cls.getComponentType(), where + "[" + i + "]"));
            }
            return array;
        }
        if (cls.isEnum()) {
            String name = expect(tree, String.class, where, "a string");
            for (Object constant : cls.getEnumConstants()) {
                if (((Enum<?>) constant).name().equalsIgnoreCase(name)) {
                    return constant;
                }
            }
            throw new JsonException(where + ": unknown value \"" + name + "\"");
        }
        if (cls == Path.class) {
            return Path.of(expect(tree, String.class, where, "a path"));
        }
        if (cls == Instant.class) {
            try {
                return Instant.parse(expect(tree, String.class, where, "a timestamp"));
            } catch (DateTimeParseException e) {
                throw new JsonException(where + ": not an ISO-8601 timestamp");
            }
        }
        if (cls.isRecord()) {
            return record(expect(tree, Map.class, where, "an object"), cls, where);
        }
        if (cls.isSealed() && cls.isInterface()) {
            Map<?, ?> map = expect(tree, Map.class, where, "an object");
            Object wire = map.get(TYPE_FIELD);
            for (Class<?> sub : cls.getPermittedSubclasses()) {
                WireName name = sub.getAnnotation(WireName.class);
                if (name != null && name.value().equals(wire)) {
                    return record(map, sub, where);
                }
            }
            throw new JsonException(where + ": unknown " + TYPE_FIELD + " " + (wire == null ? "(none)"
                    : "\"" + wire + "\""));
        }
        throw new JsonException(where + ": unsupported type " + cls.getName());
    }

    private static Object record(Map<?, ?> map, Class<?> cls, String where) {
        RecordInfo info = recordInfo(cls);
        for (Object key : map.keySet()) {
            if (!info.names.contains(key) && !(info.wireName != null && TYPE_FIELD.equals(key))) {
                throw new JsonException(where + ": unknown field \"" + key + "\"");
            }
        }
        Object[] args = new Object[info.components.length];
        for (int i = 0; i < args.length; i++) {
            RecordComponent c = info.components[i];
            args[i] = convert(map.get(c.getName()), c.getGenericType(), where + "." + c.getName());
        }
        try {
            return info.constructor.newInstance(args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            throw new JsonException(where + ": " + (cause.getMessage() == null ? cause.toString()
                    : cause.getMessage()));
        } catch (ReflectiveOperationException e) {
            throw new JsonException(where + ": cannot construct " + cls.getSimpleName() + ": " + e);
        }
    }

    private static Object primitive(Object tree, Class<?> cls, String where) {
        if (cls == boolean.class) {
            return tree == null ? Boolean.FALSE : expect(tree, Boolean.class, where, "true or false");
        }
        if (tree == null) {
            return cls == double.class ? (Object) 0.0 : cls == long.class ? (Object) 0L : (Object) 0;
        }
        Number n = expect(tree, Number.class, where, "a number");
        if (cls == double.class) {
            return n.doubleValue();
        }
        BigDecimal exact = n instanceof Long l ? BigDecimal.valueOf(l) : (BigDecimal) n;
        try {
            long value = exact.longValueExact();
            if (cls == int.class) {
                return Math.toIntExact(value);
            }
            if (cls == long.class) {
                return value;
            }
        } catch (ArithmeticException e) {
            throw new JsonException(where + ": " + n + " is not a whole number in range");
        }
        throw new JsonException(where + ": unsupported type " + cls);
    }

    private static Class<?> unbox(Class<?> boxed) {
        if (boxed == Boolean.class) {
            return boolean.class;
        }
        if (boxed == Integer.class) {
            return int.class;
        }
        return boxed == Long.class ? long.class : double.class;
    }

    private static <T> T expect(Object tree, Class<T> type, String where, String what) {
        if (!type.isInstance(tree)) {
            throw new JsonException(where + ": expected " + what + ", got " + describe(tree));
        }
        return type.cast(tree);
    }

    private static String describe(Object tree) {
        if (tree == null) {
            return "null";
        }
        if (tree instanceof String) {
            return "a string";
        }
        if (tree instanceof Number) {
            return "a number";
        }
        if (tree instanceof Boolean) {
            return "a boolean";
        }
        return tree instanceof List ? "an array" : "an object";
    }

    private static RecordInfo recordInfo(Class<?> cls) {
        return RECORDS.computeIfAbsent(cls, RecordInfo::new);
    }

    private static final class RecordInfo {
        final Class<?> type;
        final RecordComponent[] components;
        final java.util.Set<String> names = new java.util.HashSet<>();
        final Constructor<?> constructor;
        final String wireName;

        RecordInfo(Class<?> type) {
            this.type = type;
            this.components = type.getRecordComponents();
            Class<?>[] types = new Class<?>[components.length];
            for (int i = 0; i < components.length; i++) {
                types[i] = components[i].getType();
                names.add(components[i].getName());
            }
            try {
                this.constructor = type.getDeclaredConstructor(types);
                this.constructor.setAccessible(true);
            } catch (NoSuchMethodException e) {
                throw new JsonException("record " + type.getName() + " has no canonical constructor");
            }
            for (RecordComponent c : components) {
                c.getAccessor().setAccessible(true);
            }
            WireName name = type.getAnnotation(WireName.class);
            this.wireName = name == null ? null : name.value();
        }
    }
}
