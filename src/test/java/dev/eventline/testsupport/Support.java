package dev.eventline.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Small helpers shared by the test-broker classes: logging, environment, shutdown hooks, files, sleeping. */
final class Support {

    private static final String LOG_PREFIX = "[TestBroker] ";

    private Support() {
    }

    static void log(String message) {
        System.err.println(LOG_PREFIX + message);
    }

    /** The trimmed value of an environment variable; null when it is unset or blank. */
    static String env(String name) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? null : value.trim();
    }

    static void addShutdownHook(Runnable action) {
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(action, "eventline-test-broker-stop"));
        } catch (IllegalStateException e) {
            // the JVM is already shutting down
        }
    }

    /** Best effort: what cannot be deleted stays. */
    static void deleteRecursively(Path path) {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> files = Files.walk(path)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException e) {
            log("cannot delete " + path + ": " + e);
        }
    }
}
