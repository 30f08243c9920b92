package dev.eventline.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * native-build.sh: its help documents every option it parses, it refuses clearly when it has no way to build,
 * and it plans the right commands for each way (dry run: the builds themselves run in CI with the toolchain,
 * and wherever GraalVM or an engine exists).
 */
class NativeBuildScriptTest {

    private static final Path SCRIPT = Path.of("native-build.sh").toAbsolutePath();

    record Run(int exit, String out, String err) {
    }

    private static Run run(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove("GRAALVM_HOME");
        builder.environment().putAll(env);
        Path out = Files.createTempFile("nb", ".out");
        Path err = Files.createTempFile("nb", ".err");
        Process p = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "native-build.sh " + List.of(args) + " did not end");
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static String version() throws IOException {
        Matcher m = Pattern.compile("\n  <version>(.*)</version>").matcher(Files.readString(Path.of("pom.xml")));
        assertTrue(m.find());
        return m.group(1);
    }

    @Test
    void helpDocumentsEveryOptionTheScriptParses() throws Exception {
        Run help = run(Map.of(), "--help");
        assertEquals(0, help.exit());
        TreeSet<String> parsed = new TreeSet<>();
        Matcher m = Pattern.compile("^\\s+(--[a-z-]+)(\\|-h)?\\)", Pattern.MULTILINE).matcher(Files.readString(SCRIPT));
        while (m.find()) {
            parsed.add(m.group(1));
        }
        assertTrue(parsed.size() >= 11, "options found: " + parsed);
        for (String option : parsed) {
            assertTrue(help.out().contains("  " + option), option + " is parsed but not in --help:\n" + help.out());
        }
    }

    @Test
    void withNoWayToBuildItStopsAndSaysWhatWouldHelp() throws Exception {
        Run none = run(Map.of(), "--engine", "none");
        assertEquals(2, none.exit());
        assertTrue(none.err().contains("GRAALVM_HOME") && none.err().contains("--jvm-only")
                && none.err().contains("Docker or Podman"), none.err());

        Run jvmWithoutEngine = run(Map.of(), "--jvm-only", "--engine", "none", "--dry-run");
        assertEquals(3, jvmWithoutEngine.exit(), "JVM images asked for, but no engine: " + jvmWithoutEngine.err());
        assertTrue(jvmWithoutEngine.err().contains("no Docker or Podman engine"), jvmWithoutEngine.err());

        Run unknown = run(Map.of(), "--function", "no-such-function", "--engine", "none");
        assertEquals(2, unknown.exit());
        assertTrue(unknown.err().contains("no function 'no-such-function'") && unknown.err().contains("orders"),
                unknown.err());
        assertEquals(2, run(Map.of(), "--bogus").exit());
    }

    @Test
    void plansALocalNativeBuildAndOneImagePerFunction(@TempDir Path graal) throws Exception {
        Path bin = Files.createDirectories(graal.resolve("bin"));
        Path nativeImage = Files.writeString(bin.resolve("native-image"), "#!/bin/sh\nexit 1\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(nativeImage, PosixFilePermissions.fromString("rwxr-xr-x"));
        String tag = version();

        Run plan = run(Map.of("GRAALVM_HOME", graal.toString()), "--dry-run", "--engine", "docker", "--push",
                "--image", "registry.example/eventline");
        assertEquals(0, plan.exit(), plan.err());
        assertTrue(plan.out().contains("+ ./mvnw -B package -Dnative -DskipTests"), plan.out());
        for (String fn : new String[] { "orders", "notifications", "gate" }) {
            String ref = "registry.example/eventline-" + fn + ":" + tag;
            assertTrue(plan.out().contains("+ docker build -f Dockerfile.native --build-arg FUNCTION="
                    + (fn.equals("gate") ? "none" : fn) + " -t " + ref + " ."), plan.out());
            assertTrue(plan.out().contains("+ docker push " + ref), plan.out());
        }

        Run one = run(Map.of("GRAALVM_HOME", graal.toString()), "--dry-run", "--engine", "podman", "--function",
                "orders", "--tag", "7", "--test");
        assertEquals(0, one.exit(), one.err());
        assertTrue(one.out().contains("+ ./mvnw -B verify -Dnative"), "--test runs the integration tests: " + one.out());
        assertTrue(one.out().contains("podman build -f Dockerfile.native --build-arg FUNCTION=orders -t eventline-orders:7 ."));
        assertTrue(!one.out().contains("FUNCTION=notifications") && !one.out().contains("push"), one.out());

        Run container = run(Map.of(), "--dry-run", "--engine", "docker", "--no-images");
        assertEquals(0, container.exit(), container.err());
        assertTrue(container.out().contains("-Dquarkus.native.container-build=true -Dquarkus.native.container-runtime=docker"),
                container.out());
        assertTrue(!container.out().contains("docker build"), container.out());
    }
}
