package dev.eventline.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import dev.eventline.testsupport.Docs;

/**
 * The README and the pages of {@code docs/} hold together: every relative link reaches a file of the
 * repository and, when it names a section, a heading of that file (GitHub's anchors); and the README stays
 * a page a newcomer reads in minutes, with the rest in {@code docs/}.
 */
class DocumentationLinksTest {

    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    private static final Pattern HEADING = Pattern.compile("^#{1,6} (.+)$", Pattern.MULTILINE);

    @Test
    void everyRelativeLinkReachesAFileAndASection() throws IOException {
        Set<String> broken = new TreeSet<>();
        int checked = 0;
        for (Path file : Docs.files()) {
            Matcher m = LINK.matcher(withoutCode(Files.readString(file)));
            while (m.find()) {
                String link = m.group(1);
                if (link.matches("^[a-z]+:.*")) {
                    continue; // http(s), mailto: not this repository's
                }
                checked++;
                int hash = link.indexOf('#');
                String path = hash < 0 ? link : link.substring(0, hash);
                Path target = path.isEmpty() ? file : file.toAbsolutePath().getParent().resolve(path).normalize();
                if (!Files.exists(target)) {
                    broken.add(file + ": " + link + " (no such file)");
                } else if (hash >= 0 && !anchors(target).contains(link.substring(hash + 1))) {
                    broken.add(file + ": " + link + " (no such section in " + target.getFileName() + ")");
                }
            }
        }
        assertTrue(checked >= 20, "relative links found: " + checked);
        assertEquals(Set.of(), broken, "broken links");
    }

    @Test
    void theReadmeIsShortAndLinksEveryPage() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        long lines = readme.lines().count();
        assertTrue(lines < 250, "README.md has " + lines + " lines; topics belong in docs/");
        for (Path page : Docs.files().subList(1, Docs.files().size())) {
            assertTrue(readme.contains("](docs/" + page.getFileName() + ")"), "README links no " + page);
        }
    }

    /** GitHub's heading anchors: lower case, punctuation other than - and _ dropped, spaces as -. */
    static Set<String> anchors(Path markdown) throws IOException {
        Set<String> anchors = new TreeSet<>();
        if (!markdown.toString().endsWith(".md")) {
            return anchors;
        }
        Matcher m = HEADING.matcher(withoutCode(Files.readString(markdown)));
        while (m.find()) {
            anchors.add(m.group(1).trim().toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}_\\- ]", "")
                    .replace(' ', '-'));
        }
        return anchors;
    }

    /** The text without fenced code blocks, whose lines are neither links nor headings. */
    private static String withoutCode(String markdown) {
        StringBuilder out = new StringBuilder();
        boolean fence = false;
        for (String line : markdown.split("\n", -1)) {
            if (line.startsWith("```")) {
                fence = !fence;
            } else if (!fence) {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }

    @Test
    void anchorsFollowGithubsRule() throws IOException {
        Path page = Files.createTempFile("anchors", ".md");
        try {
            Files.writeString(page, "# Backpressure: what producers see and should do\n## The gate's contract\n"
                    + "### The HTTP trigger (Knative)\n```\n# not a heading\n```\n");
            assertEquals(Set.of("backpressure-what-producers-see-and-should-do", "the-gates-contract",
                    "the-http-trigger-knative"), anchors(page));
        } finally {
            Files.delete(page);
        }
    }
}
