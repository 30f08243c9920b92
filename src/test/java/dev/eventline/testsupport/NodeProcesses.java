package dev.eventline.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finding the Erlang VM of a private node. Our nodes run with HOME set to their directory, which erlexec passes to
 * the VM as its {@code -home} argument.
 */
final class NodeProcesses {

    private NodeProcesses() {
    }

    /** The pid the node wrote into {@code dir/pid}, if any. */
    static Optional<Long> readPid(Path dir) {
        try {
            return Optional.of(Long.parseLong(Files.readString(dir.resolve("pid")).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The node's Erlang VM: the one of its pid file, else the one running with HOME=dir, if any. */
    static Optional<ProcessHandle> find(Path dir) {
        return readPid(dir).flatMap(ProcessHandle::of)
                .filter(p -> isNodeProcess(p, dir))
                .or(() -> scan(dir));
    }

    /** The Erlang VM running with HOME=dir, if any. */
    private static Optional<ProcessHandle> scan(Path dir) {
        return ProcessHandle.allProcesses().filter(p -> isNodeProcess(p, dir)).findFirst();
    }

    /** An Erlang VM with HOME=dir; any Erlang VM when the platform hides command lines. */
    private static boolean isNodeProcess(ProcessHandle p, Path dir) {
        ProcessHandle.Info info = p.info();
        if (!isBeam(info)) {
            return false;
        }
        if (info.arguments().isEmpty() && info.commandLine().isEmpty()) {
            return true; // cannot tell
        }
        return homeOf(p).map(h -> h.equals(dir.toString())).orElse(false);
    }

    /** The {@code -home} argument erlexec passes to every Erlang VM (with HOME=dir for our nodes). */
    static Optional<String> homeOf(ProcessHandle p) {
        ProcessHandle.Info info = p.info();
        if (!isBeam(info)) {
            return Optional.empty();
        }
        // arguments() is empty when the JDK cannot read the whole command line; commandLine() then still is
        // (our directories hold no spaces: see LocalNode.NODE_DIR)
        String[] args = info.arguments()
                .or(() -> info.commandLine().map(line -> line.split(" ")))
                .orElse(new String[0]);
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("-home")) {
                return Optional.of(args[i + 1]);
            }
        }
        return Optional.empty();
    }

    private static boolean isBeam(ProcessHandle.Info info) {
        return info.command().map(c -> c.contains("beam")).orElse(false);
    }
}
