package dev.eventline.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Every function description, loaded once and validated together: names are unique, and every event type
 * is owned by exactly one function. Descriptions come from the classpath ({@code functions/index.txt},
 * written by the build from the repository's {@code functions/} folder) or from a directory.
 */
public final class FunctionCatalog {

    public static final String INDEX = "functions/index.txt";

    private final Map<String, FunctionDescription> byName;
    private final Map<String, FunctionDescription> byEventType;

    public FunctionCatalog(Collection<FunctionDescription> descriptions) {
        Map<String, FunctionDescription> names = new LinkedHashMap<>();
        Map<String, FunctionDescription> types = new LinkedHashMap<>();
        for (FunctionDescription d : descriptions) {
            FunctionDescription clash = names.putIfAbsent(d.name(), d);
            if (clash != null) {
                throw new DescriptionException(d.source(), "name",
                        "'" + d.name() + "' is already described in " + clash.source());
            }
            for (String type : d.eventTypes()) {
                FunctionDescription owner = types.putIfAbsent(type, d);
                if (owner != null) {
                    throw new DescriptionException(d.source(), "eventTypes",
                            "'" + type + "' is already owned by function '" + owner.name() + "' (" + owner.source()
                                    + "); each event type belongs to exactly one function");
                }
            }
        }
        if (names.isEmpty()) {
            throw new DescriptionException("functions", null, "no function descriptions found");
        }
        this.byName = Map.copyOf(names);
        this.byEventType = Map.copyOf(types);
    }

    /** Loads the descriptions built into the application. */
    public static FunctionCatalog fromClasspath(ClassLoader loader) {
        String index = read(loader, INDEX);
        if (index == null) {
            throw new DescriptionException(INDEX, null, "missing from the classpath; build with ./mvnw package");
        }
        DescriptionParser parser = new DescriptionParser();
        List<FunctionDescription> all = new ArrayList<>();
        for (String line : index.split("\\R")) {
            String entry = line.strip();
            if (entry.isEmpty()) {
                continue;
            }
            String resource = "functions/" + entry;
            String content = read(loader, resource);
            if (content == null) {
                throw new DescriptionException(resource, null, "listed in " + INDEX + " but not on the classpath");
            }
            all.add(parser.parse(resource, content, folderOf(entry)));
        }
        return new FunctionCatalog(all);
    }

    /** Loads {@code <dir>/<name>/function.yaml} for every sub-folder that has one. */
    public static FunctionCatalog fromDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new DescriptionException(dir.toString(), null, "not a directory (eventline.functions.dir)");
        }
        DescriptionParser parser = new DescriptionParser();
        List<FunctionDescription> all = new ArrayList<>();
        try (Stream<Path> folders = Files.list(dir)) {
            for (Path file : folders.map(f -> f.resolve("function.yaml")).filter(Files::isRegularFile).sorted().toList()) {
                all.add(parser.parse(file.toString(), Files.readString(file), file.getParent().getFileName().toString()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read function descriptions in " + dir, e);
        }
        return new FunctionCatalog(all);
    }

    private static String folderOf(String entry) {
        int slash = entry.indexOf('/');
        return slash < 0 ? null : entry.substring(0, slash);
    }

    private static String read(ClassLoader loader, String resource) {
        try (InputStream in = loader.getResourceAsStream(resource)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    public Collection<FunctionDescription> all() {
        return byName.values().stream().sorted((a, b) -> a.name().compareTo(b.name())).toList();
    }

    public Optional<FunctionDescription> byName(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** @return the function that owns this CloudEvent type */
    public Optional<FunctionDescription> ownerOf(String eventType) {
        return Optional.ofNullable(byEventType.get(eventType));
    }

    public Set<String> eventTypes() {
        return new TreeSet<>(byEventType.keySet());
    }

    /**
     * @param enabled names from {@code eventline.functions.enabled}: {@code all}, {@code none} or function names
     * @return the functions this process consumes for
     */
    public List<FunctionDescription> select(List<String> enabled) {
        if (enabled.size() == 1 && "all".equals(enabled.get(0))) {
            return List.copyOf(all());
        }
        if (enabled.size() == 1 && "none".equals(enabled.get(0))) {
            return List.of();
        }
        List<FunctionDescription> chosen = new ArrayList<>();
        for (String name : enabled) {
            chosen.add(byName(name.strip()).orElseThrow(() -> new IllegalArgumentException(
                    "eventline.functions.enabled names '" + name + "', which has no description; known: "
                            + new TreeSet<>(byName.keySet()) + " (or 'all', 'none')")));
        }
        return chosen;
    }
}
