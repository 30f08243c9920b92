package dev.eventline.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import io.smallrye.config.ConfigMapping;

/** The README's configuration and description tables list exactly what the code reads. */
class ConfigReferenceTest {

    private static final Pattern ROW_KEY = Pattern.compile("^\\| `([a-zA-Z.-]+)` \\|", Pattern.MULTILINE);

    @Test
    void readmeListsEveryConfigurationKeyAndNoOther() throws Exception {
        Set<String> inCode = new TreeSet<>();
        for (Class<?> mapping : List.of(EventlineConfig.class, BrokerConfig.class)) {
            collect(mapping.getAnnotation(ConfigMapping.class).prefix(), mapping, inCode);
        }
        assertEquals(inCode, rows("Configuration"));
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

    /** Keys in the first column of the tables in the README section with this heading. */
    private static Set<String> rows(String heading) throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("\n## " + heading + "\n");
        if (start < 0) {
            throw new AssertionError("README has no '## " + heading + "' section");
        }
        int end = readme.indexOf("\n## ", start + 1);
        String section = readme.substring(start, end < 0 ? readme.length() : end);
        List<String> keys = new ArrayList<>();
        Matcher m = ROW_KEY.matcher(section);
        while (m.find()) {
            keys.add(m.group(1));
        }
        return new TreeSet<>(keys);
    }
}
