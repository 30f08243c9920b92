package dev.eventline.faultmatrix;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One process of the packaged application ({@code java -jar target/quarkus-app/quarkus-run.jar}), started as a
 * user would with environment variables: the gate alone, or an instance of the matrix's function that
 * journals what it applies. It can be stopped (SIGTERM), killed (SIGKILL) and started again under a new
 * instance name, as an orchestrator would replace it.
 */
final class AppProcess {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final String role;
    private final Map<String, String> env;
    private final Path dir;
    /** The same port for every generation, so producers find a restarted gate where it was. */
    private final int port;
    private final URI base;
    private int generation;
    private String instance;
    private Process process;

    /**
     * @param role e.g. {@code gate}, {@code fn-a}: names its instance, log and journal
     * @param env  the application's settings (RABBITMQ_URL, RABBITMQ_ADDRESSES, EVENTLINE_*)
     */
    AppProcess(String role, Map<String, String> env, Path dir) {
        this.role = role;
        this.env = new LinkedHashMap<>(env);
        this.dir = dir;
        try (ServerSocket s = new ServerSocket(0)) {
            this.port = s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.base = URI.create("http://127.0.0.1:" + port);
    }

    /** Starts a new generation (instance name {@code <role>-<n>}) and waits until it is ready. */
    AppProcess start() {
        generation++;
        instance = role + "-" + generation;
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx256m", "-jar", "target/quarkus-app/quarkus-run.jar"));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(instance + ".log").toFile()));
        pb.environment().putAll(env);
        pb.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
        pb.environment().put("EVENTLINE_INSTANCE_ID", instance);
        pb.environment().put("EVENTLINE_BENCH_JOURNAL", journal().toString());
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + instance, e);
        }
        Process p = process;
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
        awaitReady(Duration.ofSeconds(120));
        return this;
    }

    void awaitReady(Duration atMost) {
        await().atMost(atMost).pollInterval(Duration.ofMillis(100)).until(() -> {
            if (!process.isAlive()) {
                throw new IllegalStateException(instance + " exited; see " + dir.resolve(instance + ".log"));
            }
            return status("/q/health/ready") == 200;
        });
    }

    /** @return the HTTP status of GET path, or -1 when nothing answers */
    int status(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** kill -9: no goodbye; its connections drop, its locks go with them. */
    void kill() {
        process.destroyForcibly();
        awaitExit();
    }

    /** SIGTERM: Quarkus' graceful shutdown (partitions handed back, connections closed). */
    void stop() {
        process.destroy();
        awaitExit();
    }

    private void awaitExit() {
        try {
            if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    String instance() {
        return instance;
    }

    URI events() {
        return base.resolve("/events");
    }

    /** This generation's journal (a new file per generation: a killed process's journal stays as it was). */
    Path journal() {
        return dir.resolve("journal-" + instance + ".log");
    }
}
