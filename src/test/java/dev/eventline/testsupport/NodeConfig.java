package dev.eventline.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The files and environment of a private node: its ports, plugins and configuration, all in its own directory, so
 * that a system broker's (/etc/rabbitmq) does not apply.
 *
 * @param env what the node and its CLI calls run with (HOME, RABBITMQ_*, ERL_CRASH_DUMP)
 */
record NodeConfig(int amqpPort, int managementPort, int distPort, Map<String, String> env) {

    /** Picks free ports and writes the node's files into dir (which it creates). */
    static NodeConfig write(Path dir, String nodeName) {
        int[] ports;
        try {
            Files.createDirectories(dir.resolve("log"));
            Files.createDirectories(dir.resolve("conf.d"));
            ProcessHandle self = ProcessHandle.current();
            Files.writeString(dir.resolve("owner"), self.pid() + " "
                    + self.info().startInstant().map(Instant::toString).orElse("?") + "\n");
            Files.writeString(dir.resolve("enabled_plugins"),
                    "[rabbitmq_management].\n");
            ports = Ports.freePorts(3);
            Files.writeString(dir.resolve("rabbitmq.conf"), rabbitmqConf(self.pid(), ports[1]));
            // isolation from a system broker's /etc/rabbitmq/{rabbitmq-env.conf,advanced.config,conf.d}
            Files.writeString(dir.resolve("rabbitmq-env.conf"), "# empty on purpose\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + dir, e);
        }
        return new NodeConfig(ports[0], ports[1], ports[2], env(dir, nodeName, ports[0], ports[2]));
    }

    private static String rabbitmqConf(long ownerPid, int managementPort) {
        return String.join("\n",
                "# private test node of " + ownerPid + "; the AMQP listener comes from RABBITMQ_NODE_IP_ADDRESS/PORT",
                "management.tcp.ip = 127.0.0.1",
                "management.tcp.port = " + managementPort,
                "loopback_users = none",
                "# the node runs in the foreground with its output in startup.log: log to log/ only",
                "log.console = false",
                "# connections show up in the management API (closeConnections) after their first stats",
                "collect_statistics_interval = 500",
                "");
    }

    private static Map<String, String> env(Path dir, String nodeName, int amqpPort, int distPort) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("HOME", dir.toString()); // the Erlang cookie of this node and its CLI calls
        env.put("RABBITMQ_NODENAME", nodeName);
        env.put("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1");
        env.put("RABBITMQ_NODE_PORT", String.valueOf(amqpPort));
        env.put("RABBITMQ_DIST_PORT", String.valueOf(distPort));
        env.put("RABBITMQ_MNESIA_BASE", dir.resolve("mnesia").toString());
        env.put("RABBITMQ_LOG_BASE", dir.resolve("log").toString());
        env.put("RABBITMQ_ENABLED_PLUGINS_FILE", dir.resolve("enabled_plugins").toString());
        env.put("RABBITMQ_CONFIG_FILE", dir.resolve("rabbitmq").toString());
        env.put("RABBITMQ_CONFIG_FILES", dir.resolve("conf.d").toString());
        env.put("RABBITMQ_ADVANCED_CONFIG_FILE", dir.resolve("advanced.config").toString());
        env.put("RABBITMQ_CONF_ENV_FILE", dir.resolve("rabbitmq-env.conf").toString());
        env.put("RABBITMQ_PID_FILE", dir.resolve("pid").toString());
        env.put("ERL_CRASH_DUMP", dir.resolve("erl_crash.dump").toString());
        return Collections.unmodifiableMap(env);
    }
}
