package dev.eventline.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Function descriptions: defaults, and a clear error naming the file and the field for every mistake. */
class DescriptionParserTest {

    private final DescriptionParser parser = new DescriptionParser();

    private static final String MINIMAL = "name: billing\neventTypes: [invoice.issued]\n";

    @Test
    void fillsDefaultsForAMinimalDescription() {
        FunctionDescription d = parser.parse("functions/billing/function.yaml", MINIMAL, "billing");
        assertEquals(4, d.partitions());
        assertEquals(4, d.concurrency());
        assertEquals(Duration.ofSeconds(30), d.timeout());
        assertEquals(5, d.retry().maxAttempts());
        assertEquals(10_000, d.limits().depthSoft());
        assertEquals(50_000, d.limits().depthHard());
        assertEquals(100_000, d.limits().depthCeiling());
        assertEquals(25_000, d.partitionMaxLength());
        assertEquals(FunctionDescription.RetryMode.STRICT, d.retry().mode());
        assertEquals(java.util.List.of(), d.retry().nonRetryable());
        assertEquals(0.8, d.limits().deadLetterWarn());
        assertEquals(new FunctionDescription.Dedup(true, Duration.ofMinutes(10), 100_000, 16L << 20), d.dedup());
        assertEquals(32, d.prefetch());
        assertEquals(1, d.keyConcurrency());
        assertEquals(false, d.keyed());
        assertEquals(Duration.ofMillis(100), d.limits().latencyTarget());
    }

    @Test
    void readsKeyConcurrencyWhichTheWindowMustHold() {
        FunctionDescription d = parser.parse("f.yaml", MINIMAL + "keyConcurrency: 8\n", null);
        assertEquals(8, d.keyConcurrency());
        assertEquals(true, d.keyed());
        assertEquals(32, d.prefetch());
        // without a prefetch, the window holds twice the calls
        assertEquals(100, parser.parse("f.yaml", MINIMAL + "keyConcurrency: 50\n", null).prefetch());
        assertEquals(64, parser.parse("f.yaml", MINIMAL + "keyConcurrency: 50\nprefetch: 64\n", null).prefetch());
        expect(MINIMAL + "keyConcurrency: 50\nprefetch: 40\n", "field 'prefetch': 40 is out of range; allowed 50..1000");
        expect(MINIMAL + "keyConcurrency: 0\n", "field 'keyConcurrency': 0 is out of range; allowed 1..256");
        expect(MINIMAL + "keyConcurrency: 257\n", "field 'keyConcurrency': 257 is out of range; allowed 1..256");
        // a smaller window caps the calls
        assertEquals(4, d.withPrefetch(4).keyConcurrency());
    }

    @Test
    void parksAFailingKeyByDefaultOnlyWithKeyConcurrency() {
        FunctionDescription one = parser.parse("f.yaml", MINIMAL, null);
        assertEquals(FunctionDescription.RetryMode.STRICT, one.retry().mode());
        assertFalse(one.parked());
        FunctionDescription eight = parser.parse("f.yaml", MINIMAL + "keyConcurrency: 8\n", null);
        assertEquals(FunctionDescription.RetryMode.PARKED, eight.retry().mode());
        assertTrue(eight.parked());
        assertFalse(eight.retry().holdAfterDeadLetter(), "a dead letter lets its key proceed by default");
        assertTrue(parser.parse("f.yaml", MINIMAL + "keyConcurrency: 8\nretry:\n  afterDeadLetter: hold\n", null)
                .retry().holdAfterDeadLetter());
        assertEquals(FunctionDescription.RetryMode.STRICT,
                parser.parse("f.yaml", MINIMAL + "keyConcurrency: 8\nretry:\n  mode: strict\n", null).retry().mode());
        expect(MINIMAL + "retry:\n  mode: parked\n", "field 'retry.mode': parked needs keyConcurrency 2 or more");
        expect(MINIMAL + "keyConcurrency: 8\nretry:\n  afterDeadLetter: wait\n",
                "field 'retry.afterDeadLetter': 'wait' must be proceed or hold");
        expect(MINIMAL + "retry:\n  afterDeadLetter: hold\n", "field 'retry.afterDeadLetter': hold needs retry.mode parked");
    }

    @Test
    void readsTheWindowAndTheLatencyTargetWhichTheSoftLagCaps() {
        FunctionDescription d = parser.parse("f.yaml", MINIMAL + "prefetch: 200\nlimits:\n  latencyTargetMs: 80\n", null);
        assertEquals(200, d.prefetch());
        assertEquals(Duration.ofMillis(80), d.limits().latencyTarget());
        // the target is a queueing delay under the soft lag limit: above it is refused
        assertEquals(Duration.ofMillis(100), parser.parse("f.yaml", MINIMAL + "limits:\n  lagSeconds:\n    soft: 1\n",
                null).limits().latencyTarget());
        expect(MINIMAL + "limits:\n  lagSeconds:\n    soft: 1\n  latencyTargetMs: 1500\n",
                "field 'limits.latencyTargetMs': 1500 is out of range; allowed 1..1000");
        expect(MINIMAL + "prefetch: 0\n", "field 'prefetch': 0 is out of range; allowed 1..1000");
        expect(MINIMAL + "prefetch: 1001\n", "field 'prefetch': 1001 is out of range; allowed 1..1000");
    }

    @Test
    void readsTheFailureSettings() {
        FunctionDescription d = parser.parse("f.yaml", MINIMAL + "retry:\n  mode: relaxed\n  maxAttempts: 6\n"
                + "  initialDelayMs: 100\n  multiplier: 3\n  maxDelayMs: 1000\n"
                + "  nonRetryable: [com.example.Rejected]\nlimits:\n  deadLetterWarn: 0.5\n"
                + "dedup:\n  enabled: false\n  windowSeconds: 60\n  maxEntries: 10\n  maxBytes: 65536\n", null);
        assertEquals(FunctionDescription.RetryMode.RELAXED, d.retry().mode());
        assertEquals(java.util.List.of("com.example.Rejected"), d.retry().nonRetryable());
        assertEquals(0.5, d.limits().deadLetterWarn());
        assertEquals(new FunctionDescription.Dedup(false, Duration.ofSeconds(60), 10, 65_536), d.dedup());
        // waits 100, 300, 900, then capped at 1000: four distinct delay levels for five waits
        assertEquals(Duration.ofMillis(900), d.retry().delayAfter(3));
        assertEquals(Duration.ofMillis(1000), d.retry().delayAfter(5));
        assertEquals(4, d.retry().delayLevels());
    }

    @Test
    void readsJsonToo() {
        FunctionDescription d = parser.parse("f.json", "{\"name\":\"billing\",\"eventTypes\":[\"a.b\"],\"partitions\":2}", null);
        assertEquals(2, d.partitions());
    }

    @Test
    void namesFileAndFieldOfEveryMistake() {
        expect(MINIMAL + "partitons: 4\n", "field 'partitons': unknown field");
        expect(MINIMAL + "partitions: 0\n", "field 'partitions': 0 is out of range; allowed 1..256");
        expect(MINIMAL + "partitions: four\n", "field 'partitions': expected a whole number");
        expect(MINIMAL + "partitions: 2\nconcurrency: 3\n", "field 'concurrency': 3 is out of range; allowed 1..2");
        expect(MINIMAL + "retry:\n  maxAttempts: 0\n", "field 'retry.maxAttempts'");
        expect(MINIMAL + "retry:\n  multipler: 2\n", "field 'retry.multipler': unknown field");
        expect(MINIMAL + "limits:\n  depth:\n    soft: 10\n    hard: 5\n", "field 'limits.depth.hard': 5 is out of range");
        expect(MINIMAL + "limits: [1]\n", "field 'limits': expected a mapping");
        expect("name: Billing\neventTypes: [a]\n", "field 'name': 'Billing' must be 1-40 characters matching");
        expect("name: other\neventTypes: [a]\n", "field 'name': 'other' must equal its folder name 'billing'");
        expect("eventTypes: [a]\n", "field 'name': required");
        expect("name: billing\n", "field 'eventTypes': required");
        expect("name: billing\neventTypes: [a, a]\n", "field 'eventTypes[1]': 'a' is listed twice");
        expect("name: billing\neventTypes: ['has space']\n", "field 'eventTypes[0]'");
        expect("name: billing\n  eventTypes: [\n", "not valid YAML");
        expect(MINIMAL + "retry:\n  mode: lenient\n", "field 'retry.mode': 'lenient' must be strict, relaxed or parked");
        expect(MINIMAL + "retry:\n  nonRetryable: [not a class]\n", "field 'retry.nonRetryable[0]'");
        expect(MINIMAL + "retry:\n  nonRetryable: Foo\n", "field 'retry.nonRetryable': expected a list");
        expect(MINIMAL + "limits:\n  deadLetterWarn: 2\n", "field 'limits.deadLetterWarn'");
        expect(MINIMAL + "dedup:\n  enabled: maybe\n", "field 'dedup.enabled': expected true or false");
        expect(MINIMAL + "dedup:\n  maxEntries: 0\n", "field 'dedup.maxEntries'");
        expect(MINIMAL + "dedup:\n  maxBytes: 100\n", "field 'dedup.maxBytes': 100 is out of range; allowed 4096..1073741824");
    }

    /**
     * Names end up in the users' permission regexes ({@code ^<fn>-\\d+$}, {@code ^<fn>\\.dlx$}), so none may
     * carry a regex metacharacter or a '.', nor be the partition queue of another ({@code orders-1}).
     */
    @Test
    void acceptsOnlyNamesThatCannotCoverAnotherFunctionsBrokerNames() {
        for (String ok : List.of("orders", "pay", "pay-out", "a", "a1", "a1-b2", "a-1b", "v2", "x-1-y",
                "a".repeat(38) + "-b")) {
            assertEquals(ok, parser.parse(ok + ".yaml", "name: " + ok + "\neventTypes: [a.b]\n", ok).name(), ok);
        }
        String badSyntax = "must be 1-40 characters matching [a-z][a-z0-9]*(-[a-z0-9]+)*";
        for (String bad : List.of("order.s", "a|b", "a*", "(a)", "a+", "a?", "[a]", "a{2}", "a^", "a$", "a\\\\b",
                "a_b", "Orders", "1a", "-a", "a-", "a--b", "a b", "a".repeat(39) + "-b")) {
            DescriptionException e = assertThrows(DescriptionException.class,
                    () -> parser.parse("f.yaml", "name: '" + bad + "'\neventTypes: [a.b]\n", null), bad);
            assertTrue(e.getMessage().contains(badSyntax), e.getMessage());
        }
        for (String partitionLike : List.of("orders-1", "pay-0", "a-b-12")) {
            expectName(partitionLike, "must not end in -<digits>: that is the name of a partition queue of a function named "
                    + partitionLike.substring(0, partitionLike.lastIndexOf('-')));
        }
        expectName("amq", "is reserved");
        expectName("gate", "is reserved");
    }

    private void expectName(String name, String message) {
        DescriptionException e = assertThrows(DescriptionException.class,
                () -> parser.parse("f.yaml", "name: " + name + "\neventTypes: [a.b]\n", null), name);
        assertTrue(e.getMessage().contains("field 'name': '" + name + "' " + message), e.getMessage());
    }

    private void expect(String yaml, String message) {
        DescriptionException e = assertThrows(DescriptionException.class,
                () -> parser.parse("functions/billing/function.yaml", yaml, "billing"));
        assertTrue(e.getMessage().startsWith("functions/billing/function.yaml: "), e.getMessage());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void refusesAnEventTypeOwnedTwice(@TempDir Path dir) throws Exception {
        write(dir, "a", "name: a\neventTypes: [x.created]\n");
        write(dir, "b", "name: b\neventTypes: [x.created]\n");
        DescriptionException e = assertThrows(DescriptionException.class, () -> FunctionCatalog.fromDirectory(dir));
        assertTrue(e.getMessage().contains("'x.created' is already owned by function 'a'"), e.getMessage());
        assertTrue(e.getMessage().contains(dir.resolve("b/function.yaml").toString()), e.getMessage());
    }

    @Test
    void loadsTheShippedDescriptionsFromTheClasspath() {
        FunctionCatalog catalog = FunctionCatalog.fromClasspath(getClass().getClassLoader());
        assertEquals(List.of("notifications", "orders"), catalog.all().stream().map(FunctionDescription::name).toList());
        assertEquals("orders", catalog.ownerOf("order.paid").orElseThrow().name());
        assertEquals(List.of("orders"), catalog.select(List.of("orders")).stream().map(FunctionDescription::name).toList());
        assertEquals(List.of(), catalog.select(List.of("none")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> catalog.select(List.of("order")));
        assertTrue(e.getMessage().contains("eventline.functions.enabled names 'order'"), e.getMessage());
    }

    @Test
    void repositoryFolderAndClasspathAgree() {
        FunctionCatalog fromRepo = FunctionCatalog.fromDirectory(Path.of("functions"));
        FunctionCatalog fromClasspath = FunctionCatalog.fromClasspath(getClass().getClassLoader());
        assertEquals(fromRepo.all().stream().map(d -> d.name() + d.eventTypes() + d.partitions()).toList(),
                fromClasspath.all().stream().map(d -> d.name() + d.eventTypes() + d.partitions()).toList());
    }

    private static void write(Path dir, String name, String yaml) throws Exception {
        Files.createDirectories(dir.resolve(name));
        Files.writeString(dir.resolve(name).resolve("function.yaml"), yaml);
    }
}
