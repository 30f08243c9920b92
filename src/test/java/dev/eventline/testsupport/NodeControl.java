package dev.eventline.testsupport;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code rabbitmqctl} for a private node this JVM started: the node's name, and its directory, which holds its
 * Erlang cookie (HOME) and the empty env file that keeps a system broker's settings out. Plain strings, so
 * that every class loader of the JVM can rebuild it ({@link TestBroker} shares the broker across them).
 */
record NodeControl(Path sbin, Path dir, String nodeName) {

    /** Runs {@code rabbitmqctl -n <node> <args>}; @return its exit status */
    int run(List<String> args) {
        List<String> command = new ArrayList<>(List.of(sbin.resolve("rabbitmqctl").toString(), "-n", nodeName));
        command.addAll(args);
        Map<String, String> env = Map.of("HOME", dir.toString(),
                "RABBITMQ_CONF_ENV_FILE", dir.resolve("rabbitmq-env.conf").toString());
        return Processes.run(command, env, dir.resolve("rabbitmqctl.log"), Duration.ofSeconds(120));
    }

    String format() {
        return sbin + "\n" + dir + "\n" + nodeName;
    }

    /** @return null for null (the broker was not started by this JVM) */
    static NodeControl parse(String formatted) {
        if (formatted == null) {
            return null;
        }
        String[] parts = formatted.split("\n");
        return new NodeControl(Path.of(parts[0]), Path.of(parts[1]), parts[2]);
    }
}
