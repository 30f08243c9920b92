package dev.eventline.testsupport;

import static dev.eventline.testsupport.Support.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The installed RabbitMQ server ({@code RABBITMQ_HOME}, else the newest under /usr/lib/rabbitmq/lib). */
final class RabbitmqInstall {

    private static final Path LIB = Paths.get("/usr/lib/rabbitmq/lib");
    private static final String DIR_PREFIX = "rabbitmq_server-";
    private static final Pattern NUMBER = Pattern.compile("\\d+");

    private RabbitmqInstall() {
    }

    /** The RabbitMQ scripts directory of the newest install (the node's own scripts, not /usr/sbin wrappers). */
    static Optional<Path> findSbin() {
        List<Path> candidates = new ArrayList<>();
        String home = Support.env("RABBITMQ_HOME");
        if (home != null) {
            candidates.add(Paths.get(home, "sbin"));
        }
        if (Files.isDirectory(LIB)) {
            try (Stream<Path> dirs = Files.list(LIB)) {
                dirs.filter(d -> d.getFileName().toString().startsWith(DIR_PREFIX))
                        .sorted(Comparator.comparing((Path d) -> versionKey(d.getFileName().toString())).reversed())
                        .map(d -> d.resolve("sbin"))
                        .forEach(candidates::add);
            } catch (IOException e) {
                log("cannot list " + LIB + ": " + e);
            }
        }
        return candidates.stream()
                .filter(s -> Files.isExecutable(s.resolve("rabbitmq-server"))
                        && Files.isExecutable(s.resolve("rabbitmqctl")))
                .findFirst();
    }

    /** The version of the install whose scripts are in sbin, e.g. 3.10.8 (the directory name when not standard). */
    static String version(Path sbin) {
        return sbin.getParent().getFileName().toString().replaceFirst("^" + DIR_PREFIX, "");
    }

    /** "rabbitmq_server-3.10.8" -> "00003.00010.00008", comparable as a string. */
    private static String versionKey(String dirName) {
        StringBuilder key = new StringBuilder();
        Matcher m = NUMBER.matcher(dirName);
        while (m.find()) {
            key.append(String.format("%05d.", Long.parseLong(m.group()) % 100_000));
        }
        return key.toString();
    }
}
