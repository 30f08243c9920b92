package dev.eventline.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.eventline.testsupport.BrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * The producer client is usable on its own: its sources ({@code client/src/main/java}) compile against Jackson
 * alone, and, loaded beside Jackson and nothing else (no Quarkus, not even this application's classes), it
 * delivers events to the real gate. The client module's pom asks for the Jackson version the application uses.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(ClientProfile.class)
class StandaloneClientTest extends RealGateTest {

    private static final Path CLIENT_SOURCES = Path.of("client/src/main/java");

    /** A producer's program: it sees only the client's public API and Jackson. */
    private static final String SMOKE = """
            package smoke;

            import java.net.URI;
            import java.time.Duration;
            import com.fasterxml.jackson.databind.node.JsonNodeFactory;
            import com.fasterxml.jackson.databind.node.ObjectNode;
            import dev.eventline.client.EventlineClient;

            public class Smoke {
                public static String run(String gate, String apiKey, String key, int events) throws Exception {
                    try (EventlineClient client = EventlineClient.builder(URI.create(gate)).apiKey(apiKey).build()) {
                        for (int seq = 0; seq < events; seq++) {
                            ObjectNode e = JsonNodeFactory.instance.objectNode().put("specversion", "1.0")
                                    .put("id", key + "/" + seq).put("source", "/smoke").put("type", "client.ordered")
                                    .put("subject", key);
                            e.putObject("data").put("key", key).put("seq", seq);
                            client.send(e);
                        }
                        return client.flush(Duration.ofSeconds(60)) + " " + client.stats();
                    }
                }
            }
            """;

    @Test
    void theClientCompilesAndDeliversWithJacksonAloneOnItsClasspath() throws Exception {
        Path out = Files.createTempDirectory(Path.of("target"), "standalone-client-");
        List<Path> jackson = List.of(jar(ObjectMapper.class), jar(JsonParser.class), jar(JsonProperty.class));
        compile(out, jackson);
        List<URL> urls = new ArrayList<>(List.of(out.toUri().toURL()));
        for (Path j : jackson) {
            urls.add(j.toUri().toURL());
        }
        String result;
        try (URLClassLoader alone = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
            assertThrows(ClassNotFoundException.class, () -> Class.forName("io.quarkus.runtime.Quarkus", false, alone));
            assertThrows(ClassNotFoundException.class, () -> Class.forName("dev.eventline.gate.Gate", false, alone));
            assertSame(alone, Class.forName("dev.eventline.client.EventlineClient", false, alone).getClassLoader());
            result = (String) Class.forName("smoke.Smoke", true, alone)
                    .getMethod("run", String.class, String.class, String.class, int.class)
                    .invoke(null, events.toString(), ClientProfile.KEY, f.key("standalone"), 5);
        }
        assertEquals("true Stats[delivered=5, throttled=0, unavailable=0, rejected=0]", result);
        f.assertAppliedInOrder(applied, List.of("standalone"), 5);
    }

    @Test
    void theClientModuleAsksForTheApplicationsJacksonVersion() throws Exception {
        Matcher m = Pattern.compile("<jackson\\.version>([^<]+)</jackson\\.version>")
                .matcher(Files.readString(Path.of("client/pom.xml")));
        assertTrue(m.find(), "client/pom.xml names jackson.version");
        assertEquals(com.fasterxml.jackson.databind.cfg.PackageVersion.VERSION.toString(), m.group(1),
                "client/pom.xml's jackson.version follows the Quarkus platform's");
    }

    private static void compile(Path out, List<Path> classpath) throws Exception {
        Path smoke = out.resolve("src/smoke/Smoke.java");
        Files.createDirectories(smoke.getParent());
        Files.writeString(smoke, SMOKE);
        List<Path> sources;
        try (Stream<Path> s = Files.walk(CLIENT_SOURCES)) {
            sources = new ArrayList<>(s.filter(p -> p.toString().endsWith(".java")).toList());
        }
        sources.add(smoke);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StringWriter diagnostics = new StringWriter();
        try (StandardJavaFileManager files = javac.getStandardFileManager(null, null, null)) {
            Iterable<? extends JavaFileObject> units = files.getJavaFileObjectsFromPaths(sources);
            List<String> options = List.of("--release", "17", "-proc:none", "-d", out.toString(), "-classpath",
                    String.join(java.io.File.pathSeparator, classpath.stream().map(Path::toString).toList()));
            assertTrue(javac.getTask(diagnostics, files, null, options, null, units).call(),
                    "the client compiles against Jackson alone:\n" + diagnostics);
        }
    }

    /** The jar a class was loaded from. */
    private static Path jar(Class<?> c) throws Exception {
        String url = c.getResource(c.getSimpleName() + ".class").toString();
        assertTrue(url.startsWith("jar:file:"), url);
        return Path.of(URI.create(url.substring("jar:".length(), url.indexOf("!/"))));
    }
}
