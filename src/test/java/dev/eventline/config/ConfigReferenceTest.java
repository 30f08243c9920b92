package dev.eventline.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import dev.eventline.broker.BrokerConfig;
import dev.eventline.testsupport.Docs;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.ConfigMappings;

/**
 * The documentation's configuration and description tables list exactly what the code reads, and every
 * configuration key the README and the pages of {@code docs/} name is one the code reads.
 */
class ConfigReferenceTest {

    private static final Pattern ROW_KEY = Pattern.compile("^\\| `([a-zA-Z.-]+)` \\|", Pattern.MULTILINE);
    /**
     * A dotted key under either prefix; not a package ({@code dev.eventline.x}), a name after {@code <prefix>} (an
     * exchange) or an annotation domain ({@code eventline.dev/retry}).
     */
    private static final Pattern KEY = Pattern.compile(
            "(?<![\\w./>-])((?:eventline|rabbitmq)\\.[a-z][a-zA-Z0-9.<>_-]*[a-zA-Z0-9>])(?![\\w/(])");

    @Test
    void readmeListsEveryConfigurationKeyAndNoOther() throws Exception {
        Set<String> inCode = new TreeSet<>();
        for (Class<?> mapping : List.of(EventlineConfig.class, BrokerConfig.class)) {
            collect(mapping.getAnnotation(ConfigMapping.class).prefix(), mapping, inCode);
        }
        assertEquals(inCode, rows("Configuration"));
    }

    /**
     * A wrong key in prose is a setting that silently does nothing (or, under {@code eventline}, a start-up
     * failure). The keys as SmallRye Config derives them from the two mappings: a map's key is {@code *}, which
     * the README writes {@code <name>} or as an example name.
     */
    @Test
    void everyConfigurationKeyTheDocsNameExists() throws Exception {
        Set<String> known = new TreeSet<>();
        for (Class<?> mapping : List.of(EventlineConfig.class, BrokerConfig.class)) {
            known.addAll(ConfigMappings.getProperties(ConfigMappings.ConfigClass.configClass(mapping,
                    mapping.getAnnotation(ConfigMapping.class).prefix())).keySet());
        }
        assertTrue(known.contains("eventline.monitor.interval") && known.contains("rabbitmq.max-unconfirmed"),
                "the mappings' keys as read: " + known);
        Set<String> named = new TreeSet<>();
        Set<String> unknown = new TreeSet<>();
        for (Path file : Docs.files()) {
            Matcher m = KEY.matcher(Files.readString(file));
            while (m.find()) {
                named.add(m.group(1));
                if (!exists(m.group(1), known)) {
                    unknown.add(file + ": " + m.group(1));
                }
            }
        }
        assertTrue(named.size() >= 20, "keys found in the documentation: " + named);
        assertEquals(Set.of(), unknown, "named in the documentation, read by no configuration mapping; known: " + known);
    }

    /** The key itself, an entry of a map of keys (any name for {@code *}), or the root of a group or map. */
    private static boolean exists(String key, Set<String> known) {
        String written = key.replaceAll("<[^>]+>", "*");
        for (String k : known) {
            String asRead = Pattern.quote(k).replace("*", "\\E[^.]+\\Q");
            if (k.equals(written) || written.matches(asRead) || k.startsWith(written + ".")) {
                return true;
            }
        }
        return false;
    }

    @Test
    void readmeListsEveryDescriptionField() throws Exception {
        assertEquals(new TreeSet<>(DescriptionParser.FIELDS), rows("Function descriptions"));
    }

    private static void collect(String prefix, Class<?> type, Set<String> keys) {
        for (Method m : type.getDeclaredMethods()) {
            String key = prefix + "." + kebab(m.getName());
            if (m.getReturnType().isInterface() && m.getReturnType().getEnclosingClass() == type) {
                collect(key, m.getReturnType(), keys);
            } else {
                keys.add(key);
            }
        }
    }

    private static String kebab(String name) {
        return name.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase();
    }

    /** Keys in the first column of the tables in the documentation's section with this heading. */
    private static Set<String> rows(String heading) throws Exception {
        String section = Docs.section(heading);
        List<String> keys = new ArrayList<>();
        Matcher m = ROW_KEY.matcher(section);
        while (m.find()) {
            keys.add(m.group(1));
        }
        return new TreeSet<>(keys);
    }
}
