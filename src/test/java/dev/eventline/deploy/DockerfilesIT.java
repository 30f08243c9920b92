package dev.eventline.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The Dockerfiles, checked after {@code package} (no engine runs here to build them): what they copy is what the
 * build produces, they run as a non-root user, pin their base images, and let the build select the function.
 */
class DockerfilesIT {

    private static List<String> instructions(String file) throws IOException {
        return Files.readAllLines(Path.of(file)).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    private static void commonRules(String file, String user) throws IOException {
        List<String> lines = instructions(file);
        String from = lines.get(0);
        assertTrue(from.startsWith("FROM ") && from.matches("FROM \\S+:\\S+") && !from.endsWith(":latest"),
                file + ": a pinned base image: " + from);
        assertTrue(lines.contains("USER " + user), file + " runs as " + user);
        assertFalse(lines.stream().anyMatch(l -> l.equals("USER root") || l.equals("USER 0")), file);
        assertTrue(lines.contains("ARG FUNCTION=all"), file);
        assertTrue(lines.contains("ENV EVENTLINE_FUNCTIONS_ENABLED=${FUNCTION}"), file);
        assertTrue(lines.contains("EXPOSE 8080"), file);
        assertEquals(lines.size() - 1, lines.indexOf(lines.stream().filter(l -> l.startsWith("ENTRYPOINT")).findFirst()
                .orElseThrow()), file + " ends with its entry point");
    }

    /** Every COPY source matches at least one file or directory of the build's output. */
    private static void copiesExist(String file) throws IOException {
        for (String line : instructions(file)) {
            if (!line.startsWith("COPY ")) {
                continue;
            }
            String[] parts = line.split("\\s+");
            String source = parts[parts.length - 2];
            String glob = source.endsWith("/") ? source.substring(0, source.length() - 1) : source;
            PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + glob);
            try (Stream<Path> files = Files.walk(Path.of("target"), 3)) {
                assertTrue(files.anyMatch(matcher::matches), file + ": '" + source + "' is not produced by the build");
            }
        }
    }

    /**
     * The build context holds only what the images copy: {@code .dockerignore} leaves out everything, then lets in
     * each COPY source (Docker's patterns are globs over paths, as {@link PathMatcher}'s; a directory let in brings
     * its contents).
     */
    @Test
    void theBuildContextIsOnlyWhatTheImagesCopy() throws IOException {
        List<String> patterns = Files.readAllLines(Path.of(".dockerignore")).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertEquals("*", patterns.get(0), ".dockerignore starts by leaving everything out");
        List<PathMatcher> in = patterns.stream().filter(l -> l.startsWith("!"))
                .map(l -> FileSystems.getDefault().getPathMatcher("glob:" + l.substring(1))).toList();
        assertTrue(patterns.stream().skip(1).allMatch(l -> l.startsWith("!")), "then only lets in: " + patterns);
        for (String file : List.of("Dockerfile.jvm", "Dockerfile.native")) {
            for (String line : instructions(file)) {
                if (line.startsWith("COPY ")) {
                    String[] parts = line.split("\\s+");
                    String source = parts[parts.length - 2].replaceAll("/$", "").replace("*", "x");
                    assertTrue(in.stream().anyMatch(m -> m.matches(Path.of(source))),
                            file + ": " + parts[parts.length - 2] + " is not let into the build context by .dockerignore");
                }
            }
        }
    }

    @Test
    void theJvmImageCopiesTheFastJarAndRunsAsNonRoot() throws IOException {
        commonRules("Dockerfile.jvm", "185");
        copiesExist("Dockerfile.jvm");
        assertTrue(Files.exists(Path.of("target/quarkus-app/quarkus-run.jar")));
    }

    @Test
    void theNativeImageRunsTheExecutableAsNonRoot() throws IOException {
        commonRules("Dockerfile.native", "1001");
        assertTrue(instructions("Dockerfile.native").contains("COPY --chown=1001:root --chmod=0755 target/*-runner /work/application"));
        try (Stream<Path> runners = Files.list(Path.of("target"))) {
            if (runners.anyMatch(p -> p.getFileName().toString().endsWith("-runner"))) {
                copiesExist("Dockerfile.native"); // after a native build
            }
        }
    }
}
