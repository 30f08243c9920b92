package dev.eventline.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/** A private node that did not start; the message quotes the node's startup output, config and logs. */
class NodeStartFailure extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    NodeStartFailure(String message) {
        super(message);
    }

    /** The node could not bind a port picked as free (another process took it in the meantime). */
    static final class PortClash extends NodeStartFailure {
        private static final long serialVersionUID = 1L;

        PortClash(String message) {
            super(message);
        }
    }

    /** The failure of node nodeName, whose files are in dir: a {@link PortClash} when its files tell so. */
    static NodeStartFailure of(String nodeName, Path dir, String what) {
        StringBuilder message = new StringBuilder("RabbitMQ node " + nodeName + " did not start: " + what
                + " (files in " + dir + ")");
        for (Path file : filesToQuote(dir)) {
            message.append("\n--- ").append(file).append(":\n").append(excerpt(file));
        }
        String text = message.toString();
        return text.toLowerCase(Locale.ROOT).contains("eaddrinuse") ? new PortClash(text) : new NodeStartFailure(text);
    }

    private static List<Path> filesToQuote(Path dir) {
        List<Path> files = new ArrayList<>();
        files.add(dir.resolve("startup.log"));
        files.add(dir.resolve("rabbitmq.conf"));
        if (Files.exists(dir.resolve("rabbitmqctl.log"))) {
            files.add(dir.resolve("rabbitmqctl.log"));
        }
        try (Stream<Path> logs = Files.list(dir.resolve("log"))) {
            logs.filter(f -> f.toString().endsWith(".log")).sorted().forEach(files::add);
        } catch (IOException ignored) {
            // no log dir yet
        }
        return files;
    }

    /** The whole file when short, else its first 20 lines (where the cause usually is) and its last 40. */
    private static String excerpt(Path file) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            if (all.size() <= 70) {
                return String.join("\n", all);
            }
            return String.join("\n", all.subList(0, 20)) + "\n[... " + (all.size() - 60) + " lines ...]\n"
                    + String.join("\n", all.subList(all.size() - 40, all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
