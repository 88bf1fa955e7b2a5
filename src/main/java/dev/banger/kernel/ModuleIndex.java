package dev.banger.kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The modules of one kernel, from its {@code lib/modules/<version>/} directory: where each module file is, what
 * it depends on, and which modules are built in. {@code modules.dep} is used when present; without it (Debian
 * packages ship none, depmod writes it at install time) the module files are found by walking the directory and
 * dependencies are read from each module's {@code .modinfo}, only for the modules actually asked about.
 */
final class ModuleIndex {

    static final String MODULES_DEP = "modules.dep";
    static final String MODULES_BUILTIN = "modules.builtin";

    private final Path dir;
    private final Map<String, KernelModule> modules;
    private final Map<String, List<String>> dependencies;
    private final Set<String> builtin;
    private final ModuleDecompressor decompressor;
    private final ModinfoReader modinfo = new ModinfoReader();

    private ModuleIndex(Path dir, Map<String, KernelModule> modules, Map<String, List<String>> dependencies,
                        Set<String> builtin, ModuleDecompressor decompressor) {
        this.dir = dir;
        this.modules = modules;
        this.dependencies = dependencies;
        this.builtin = builtin;
        this.decompressor = decompressor;
    }

    /** Indexes {@code dir}, a {@code lib/modules/<version>} directory. */
    static ModuleIndex load(Path dir, ModuleDecompressor decompressor) {
        if (!Files.isDirectory(dir)) {
            throw new KernelException("modules directory " + dir + " does not exist");
        }
        Set<String> builtin = readBuiltin(dir.resolve(MODULES_BUILTIN));
        Path dep = dir.resolve(MODULES_DEP);
        if (Files.isRegularFile(dep)) {
            Map<String, KernelModule> modules = new HashMap<>();
            Map<String, List<String>> deps = new HashMap<>();
            parseModulesDep(readLines(dep), modules, deps);
            return new ModuleIndex(dir, modules, deps, builtin, decompressor);
        }
        return new ModuleIndex(dir, scan(dir), new HashMap<>(), builtin, decompressor);
    }

    /**
     * Parses {@code modules.dep}: one line per module, {@code path: dep-path dep-path...}. depmod lists the whole
     * closure per module; the resolver does not rely on that.
     */
    static void parseModulesDep(List<String> lines, Map<String, KernelModule> modules,
                                Map<String, List<String>> deps) {
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (line.isBlank() || line.startsWith("#") || colon < 0) {
                continue;
            }
            KernelModule module = KernelModule.ofPath(line.substring(0, colon).strip());
            List<String> depNames = new ArrayList<>();
            for (String depPath : line.substring(colon + 1).strip().split("\\s+")) {
                if (!depPath.isEmpty()) {
                    depNames.add(KernelModule.nameOf(depPath));
                }
            }
            modules.putIfAbsent(module.name(), module);
            deps.putIfAbsent(module.name(), List.copyOf(depNames));
        }
    }

    Path directory() {
        return dir;
    }

    Optional<KernelModule> module(String name) {
        return Optional.ofNullable(modules.get(KernelModule.canonical(name)));
    }

    boolean isBuiltin(String name) {
        return builtin.contains(KernelModule.canonical(name));
    }

    /** Dependencies of a module known to this index. */
    List<String> dependencies(String name) {
        String key = KernelModule.canonical(name);
        return dependencies.computeIfAbsent(key, k -> {
            KernelModule module = modules.get(k);
            Path file = dir.resolve(module.path());
            return List.copyOf(modinfo.dependencies(decompressor.read(file), file.toString()));
        });
    }

    /** The plain ELF bytes of a module. */
    byte[] read(KernelModule module) {
        return decompressor.read(dir.resolve(module.path()));
    }

    private static Map<String, KernelModule> scan(Path dir) {
        // Sorted so that a name present twice resolves the same way every time; "updates/" wins like depmod's
        // default search order, then everything else alphabetically.
        TreeMap<String, String> byPath = new TreeMap<>((a, b) -> {
            boolean ua = a.startsWith("updates/");
            boolean ub = b.startsWith("updates/");
            return ua != ub ? (ua ? -1 : 1) : a.compareTo(b);
        });
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.filter(Files::isRegularFile)
                    .filter(p -> KernelModule.isModuleFile(p.getFileName().toString()))
                    .forEach(p -> {
                        String rel = dir.relativize(p).toString().replace('\\', '/');
                        byPath.put(rel, rel);
                    });
        } catch (IOException | UncheckedIOException e) {
            throw new KernelException("cannot list kernel modules in " + dir + ": " + e.getMessage(), e);
        }
        Map<String, KernelModule> modules = new HashMap<>();
        for (String rel : byPath.keySet()) {
            KernelModule module = KernelModule.ofPath(rel);
            modules.putIfAbsent(module.name(), module);
        }
        return modules;
    }

    private static Set<String> readBuiltin(Path file) {
        Set<String> names = new HashSet<>();
        if (Files.isRegularFile(file)) {
            for (String line : readLines(file)) {
                if (!line.isBlank()) {
                    names.add(KernelModule.nameOf(line.strip()));
                }
            }
        }
        return names;
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new KernelException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
