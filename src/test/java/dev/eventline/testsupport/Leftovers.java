package dev.eventline.testsupport;

import static dev.eventline.testsupport.Processes.awaitExit;
import static dev.eventline.testsupport.Support.log;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;

/**
 * Private nodes of earlier runs whose JVM was killed before it could stop them: such a node outlives its JVM, and
 * the next run stops it and deletes its files.
 */
final class Leftovers {

    private Leftovers() {
    }

    /** Stops nodes of earlier, killed runs (their JVM is gone) and deletes their files. */
    static void cleanUp(Path base, Path sbin) {
        if (Files.isDirectory(base)) {
            cleanUpDirectories(base, sbin);
        }
        stopOrphanedNodes(base);
    }

    private static void cleanUpDirectories(Path base, Path sbin) {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(base)) {
            for (Path d : dirs) {
                Matcher m = LocalNode.NODE_DIR.matcher(d.getFileName().toString());
                if (Files.isDirectory(d) && m.matches()) {
                    cleanUpDirectory(d, Long.parseLong(m.group(1)), sbin);
                }
            }
        } catch (IOException e) {
            log("cannot scan " + base + " for leftovers: " + e);
        }
    }

    private static void cleanUpDirectory(Path d, long ownerPid, Path sbin) {
        if (ownerAlive(d, ownerPid)) {
            log("leaving " + d.getFileName() + " alone: the JVM that started it still runs");
            return;
        }
        Optional<ProcessHandle> node = NodeProcesses.find(d);
        if (node.isPresent()) {
            log("stopping leftover node " + d.getFileName() + "@localhost of an earlier run");
            stopNode(sbin, d, node.get());
        }
        Support.deleteRecursively(d);
    }

    /** Nodes whose directory is gone (e.g. `mvn clean` after a killed run): no cookie left, so by signal. */
    private static void stopOrphanedNodes(Path base) {
        ProcessHandle.allProcesses().forEach(p -> NodeProcesses.homeOf(p)
                .filter(home -> home.startsWith(base.toString() + "/"))
                .ifPresent(home -> stopIfOrphaned(p, Paths.get(home))));
    }

    private static void stopIfOrphaned(ProcessHandle p, Path d) {
        Matcher m = LocalNode.NODE_DIR.matcher(d.getFileName().toString());
        if (m.matches() && !Files.exists(d) && !ownerAlive(d, Long.parseLong(m.group(1)))) {
            log("stopping orphaned node " + d.getFileName() + " (pid " + p.pid() + ", files gone)");
            p.destroy();
            if (!awaitExit(p, Duration.ofSeconds(15))) {
                p.destroyForcibly();
            }
        }
    }

    /** Whether the JVM that wrote {@code dir/owner} still runs (a recycled pid is not the owner). */
    static boolean ownerAlive(Path dir, long ownerPid) {
        Optional<ProcessHandle> owner = ProcessHandle.of(ownerPid).filter(ProcessHandle::isAlive);
        if (owner.isEmpty()) {
            return false;
        }
        try {
            String[] recorded = Files.readString(dir.resolve("owner")).trim().split(" ");
            Optional<Instant> started = owner.get().info().startInstant();
            return recorded.length < 2 || recorded[1].equals("?") || started.isEmpty()
                    || recorded[1].equals(started.get().toString());
        } catch (IOException e) {
            return true;
        }
    }

    /** Stops a leftover node (rabbitmqctl stop, else by signal) and returns when its OS process is gone. */
    private static void stopNode(Path sbin, Path dir, ProcessHandle p) {
        if (!p.isAlive()) {
            return;
        }
        String nodeName = dir.getFileName() + "@localhost";
        List<String> command = new ArrayList<>(List.of(sbin.resolve("rabbitmqctl").toString(), "-n", nodeName,
                "stop"));
        if (NodeProcesses.readPid(dir).isPresent()) {
            command.add(dir.resolve("pid").toString());
        }
        // the node's cookie is in its HOME; its own rabbitmq-env.conf keeps a system broker's out
        Map<String, String> env = Map.of("HOME", dir.toString(),
                "RABBITMQ_CONF_ENV_FILE", dir.resolve("rabbitmq-env.conf").toString());
        int rc = Processes.run(command, env, dir.resolve("stop.log"), Duration.ofSeconds(60));
        if (!awaitExit(p, Duration.ofSeconds(rc == 0 ? 15 : 1))) {
            log("`rabbitmqctl stop` did not end " + nodeName + " (exit " + rc + "): sending SIGTERM to " + p.pid());
            p.destroy();
            if (!awaitExit(p, Duration.ofSeconds(15))) {
                log("sending SIGKILL to " + p.pid());
                p.destroyForcibly();
                awaitExit(p, Duration.ofSeconds(5));
            }
        }
    }
}
