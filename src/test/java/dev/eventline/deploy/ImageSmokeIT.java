package dev.eventline.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import dev.eventline.testsupport.TestBroker;

/**
 * Each image starts and becomes ready against a broker: where a container engine (docker or podman) answers, the
 * image is built from its Dockerfile and run with the host's network, and its readiness is awaited. Where none
 * does (as on the machine CI runs on), each test is skipped, and says so: it is never reported as passed.
 */
class ImageSmokeIT {

    private static final Duration READY = Duration.ofSeconds(180);

    @Test
    void theJvmImageStartsAndBecomesReady() throws Exception {
        smoke("Dockerfile.jvm", "jvm");
    }

    @Test
    void theNativeImageStartsAndBecomesReady() throws Exception {
        Optional<Path> executable;
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            executable = files.filter(p -> p.getFileName().toString().endsWith("-runner")).findFirst();
        }
        skipUnless(executable.isPresent(), "no native executable in target/ (./native-build.sh builds one)");
        skipUnless(!Files.exists(Path.of("target/lib/libjvm.so")), "the native executable in target/ was built with "
                + "the unofficial toolchain, whose executables are never packed into images (docs/deploying.md)");
        smoke("Dockerfile.native", "native");
    }

    private static void smoke(String dockerfile, String tag) throws Exception {
        Optional<String> engine = engine();
        skipUnless(engine.isPresent(), "no container engine (docker or podman) answers here, so " + dockerfile
                + " was neither built nor started; where one does, this test builds it and waits for its readiness");
        // the container reaches the tests' broker on 127.0.0.1 through the host's network: Linux hosts only
        skipUnless(System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux"),
                "the container would not reach the tests' broker on 127.0.0.1 (host networking needs a Linux host)");
        String image = "eventline-smoke:" + tag;
        String e = engine.get();
        run(List.of(e, "build", "-f", dockerfile, "-t", image, "."), Duration.ofMinutes(20));
        TestBroker broker = TestBroker.get();
        String prefix = "smoke" + Long.toString(System.nanoTime(), 36) + "-";
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String name = "eventline-smoke-" + tag + "-" + port;
        run(List.of(e, "run", "-d", "--name", name, "--network", "host",
                "-e", "RABBITMQ_URL=" + broker.amqpUrl(), "-e", "QUARKUS_HTTP_PORT=" + port,
                "-e", "EVENTLINE_TOPOLOGY_PREFIX=" + prefix, "-e", "EVENTLINE_GATE_OPEN=true", image),
                Duration.ofMinutes(2));
        try {
            HttpClient http = HttpClient.newHttpClient();
            URI ready = URI.create("http://127.0.0.1:" + port + "/q/health/ready");
            Awaitility.await().atMost(READY).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> {
                if (!run(List.of(e, "inspect", "-f", "{{.State.Running}}", name), Duration.ofMinutes(1)).strip()
                        .equals("true")) {
                    throw new AssertionError("the container stopped:\n" + quietly(List.of(e, "logs", name)));
                }
                return http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding())
                        .statusCode() == 200;
            });
        } catch (org.awaitility.core.ConditionTimeoutException notReady) {
            throw new AssertionError("not ready within " + READY + ":\n" + quietly(List.of(e, "logs", name)), notReady);
        } finally {
            quietly(List.of(e, "rm", "-f", name));
            quietly(List.of(e, "rmi", image));
            broker.deleteByPrefix(prefix);
        }
    }

    /** Runs a clean-up or a diagnosis: its failure must not hide the test's own. */
    private static String quietly(List<String> command) {
        try {
            return run(command, Duration.ofMinutes(1));
        } catch (Exception | AssertionError e) {
            return "(" + String.join(" ", command) + ": " + e.getMessage() + ")";
        }
    }

    private static void skipUnless(boolean condition, String why) {
        if (!condition) {
            System.err.println("[ImageSmokeIT] SKIPPED: " + why);
        }
        Assumptions.assumeTrue(condition, "skipped: " + why);
    }

    /** The first of docker and podman whose {@code info} succeeds. */
    static Optional<String> engine() {
        for (String candidate : List.of("docker", "podman")) {
            try {
                Process p = new ProcessBuilder(candidate, "info").redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return Optional.of(candidate);
                }
                p.destroyForcibly();
            } catch (IOException notInstalled) {
                // next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** Runs the command within the limit (then kills it); its standard output, its error output apart. */
    private static String run(List<String> command, Duration limit) throws Exception {
        Path out = Files.createTempFile("image-smoke", ".out");
        Path err = Files.createTempFile("image-smoke", ".err");
        try {
            Process p = new ProcessBuilder(new ArrayList<>(command)).redirectOutput(out.toFile())
                    .redirectError(err.toFile()).start();
            if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not end within " + limit);
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + text
                    + Files.readString(err, StandardCharsets.UTF_8));
            return text;
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
