package dev.eventline.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Running the RabbitMQ scripts as child processes, and waiting for processes to end. */
final class Processes {

    private Processes() {
    }

    /**
     * Starts the command in the directory of output (where an Erlang VM drops erl_crash.dump), with only our
     * RABBITMQ_* variables, stdin closed, stdout+stderr appended to output.
     */
    static Process launch(List<String> command, Map<String, String> env, Path output) {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.directory(output.getParent().toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("RABBITMQ_"));
        builder.environment().putAll(env);
        builder.redirectErrorStream(true);
        builder.redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
        try {
            Process process = builder.start();
            process.getOutputStream().close();
            return process;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        }
    }

    /** Runs the command as {@link #launch} does and returns its exit code; -1 (and killed) when it times out. */
    static int run(List<String> command, Map<String, String> env, Path output, Duration timeout) {
        try {
            Process process = launch(command, env, output);
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                return -1;
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        }
    }

    /** Waits up to timeout for the process to end; tells whether it did. */
    static boolean awaitExit(ProcessHandle process, Duration timeout) {
        try {
            process.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // timed out, or the exit could not be awaited: the answer is whether it still runs
        }
        return !process.isAlive();
    }
}
