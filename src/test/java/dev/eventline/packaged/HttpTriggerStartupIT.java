package dev.eventline.packaged;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * The packaged application (jar or native executable, as {@code target/quarkus-artifact.properties} names it) in
 * HTTP mode refuses to start without a usable token, saying which key to set and never showing the value, and
 * starts open only when told to, with a warning. Nothing needs to listen on the broker's port for this.
 */
class HttpTriggerStartupIT {

    private static final Duration START = Duration.ofSeconds(90);

    @Test
    void httpModeWithoutATokenDoesNotStartAndSaysWhatToSet() throws Exception {
        Run run = start(Map.of());
        assertNotEquals(0, run.awaitExit(), run.output());
        assertTrue(run.output().contains("eventline.trigger.mode=http but eventline.trigger.token is not set"), run.output());
        assertTrue(run.output().contains("EVENTLINE_TRIGGER_TOKEN") && run.output().contains("eventline.trigger.open=true"),
                run.output());
    }

    @Test
    void aWeakTokenDoesNotStartAndIsNeverShown() throws Exception {
        for (String weak : List.of("short-secret", "a token with spaces 0123456789")) {
            Run run = start(Map.of("EVENTLINE_TRIGGER_TOKEN", weak));
            assertNotEquals(0, run.awaitExit(), run.output());
            assertTrue(run.output().contains("eventline.trigger.token is "), run.output());
            assertFalse(run.output().contains(weak), "the token appears in the output:\n" + run.output());
        }
    }

    @Test
    void theDevelopmentOptOutTogetherWithATokenDoesNotStart() throws Exception {
        String token = "a-good-token-0123456789";
        Run run = start(Map.of("EVENTLINE_TRIGGER_OPEN", "true", "EVENTLINE_TRIGGER_TOKEN", token));
        assertNotEquals(0, run.awaitExit(), run.output());
        assertTrue(run.output().contains("eventline.trigger.open=true and eventline.trigger.token are both set"),
                run.output());
        assertFalse(run.output().contains(token), run.output());
    }

    @Test
    void theDevelopmentOptOutStartsWithAWarning() throws Exception {
        Run run = start(Map.of("EVENTLINE_TRIGGER_OPEN", "true"));
        try {
            await().atMost(START).until(() -> run.output().contains("HTTP trigger is OPEN") || !run.process.isAlive());
            assertTrue(run.output().contains("WARN") && run.output().contains("For development only"), run.output());
            assertTrue(run.process.isAlive(), run.output());
        } finally {
            run.process.destroy();
            run.process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** A started process and everything it printed so far. */
    private record Run(Process process, StringBuffer printed) {

        String output() {
            return printed.toString();
        }

        int awaitExit() throws InterruptedException {
            if (!process.waitFor(START.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("still running after " + START + ":\n" + output());
            }
            return process.waitFor();
        }
    }

    private static Run start(Map<String, String> env) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command()).redirectErrorStream(true);
        builder.environment().keySet().removeIf(k -> k.startsWith("EVENTLINE_") || k.equals("RABBITMQ_URL"));
        builder.environment().putAll(Map.of("EVENTLINE_TRIGGER_MODE", "http", "EVENTLINE_FUNCTIONS_ENABLED", "orders",
                "EVENTLINE_GATE_ENABLED", "false", "QUARKUS_HTTP_PORT", "0",
                "RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:1/%2F", "RABBITMQ_CONNECT_TIMEOUT", "1s"));
        builder.environment().putAll(env);
        Process process = builder.start();
        StringBuffer printed = new StringBuffer();
        Thread reader = new Thread(() -> copy(process.getInputStream(), printed), "startup-it-output");
        reader.setDaemon(true);
        reader.start();
        return new Run(process, printed);
    }

    private static void copy(InputStream in, StringBuffer into) {
        byte[] buffer = new byte[8192];
        try {
            for (int n; (n = in.read(buffer)) >= 0;) {
                into.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            into.append("[output ended: ").append(e.getMessage()).append(']');
        }
    }

    /** The packaged application the build made: {@code target/quarkus-artifact.properties}. */
    private static List<String> command() throws IOException {
        Properties artifact = new Properties();
        try (InputStream in = Files.newInputStream(Path.of("target", "quarkus-artifact.properties"))) {
            artifact.load(in);
        }
        Path path = Path.of("target").resolve(artifact.getProperty("path")).toAbsolutePath();
        List<String> command = new ArrayList<>();
        if ("jar".equals(artifact.getProperty("type"))) {
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.add("-jar");
        }
        command.add(path.toString());
        return command;
    }
}
