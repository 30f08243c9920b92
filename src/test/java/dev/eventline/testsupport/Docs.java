package dev.eventline.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The project's documentation as a reader finds it: the README, then the pages of {@code docs/}. */
public final class Docs {

    private Docs() {
    }

    /** @return README.md and every {@code docs/*.md}, in name order after the README */
    public static List<Path> files() throws IOException {
        List<Path> files = new ArrayList<>(List.of(Path.of("README.md")));
        try (Stream<Path> pages = Files.list(Path.of("docs"))) {
            pages.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
        }
        return files;
    }

    /**
     * @return the text of the section under {@code ## heading} (to the next {@code ## }), from whichever
     *         documentation file holds it
     * @throws AssertionError when none does, or more than one does
     */
    public static String section(String heading) throws IOException {
        String found = null;
        for (Path file : files()) {
            String text = Files.readString(file);
            int start = text.indexOf("\n## " + heading + "\n");
            if (start < 0) {
                continue;
            }
            if (found != null) {
                throw new AssertionError("more than one '## " + heading + "' section in the documentation");
            }
            int end = text.indexOf("\n## ", start + 1);
            found = text.substring(start, end < 0 ? text.length() : end);
        }
        if (found == null) {
            throw new AssertionError("no '## " + heading + "' section in " + files());
        }
        return found;
    }
}
