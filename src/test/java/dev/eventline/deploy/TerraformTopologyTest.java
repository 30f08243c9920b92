package dev.eventline.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;

import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.testsupport.OfflineTools;
import dev.eventline.topology.Names;
import dev.eventline.topology.TopologySpec;

/**
 * The Terraform module in {@code terraform/}, checked offline (no terraform binary, no registry): every file
 * parses and uses only the provider's arguments, and the topology its plan would create is exactly the one
 * the runtime declares ({@link TopologySpec}), for the repository's functions, the test functions and
 * generated descriptions, under any prefix; the users' permissions grant what the runtime does and no more.
 */
class TerraformTopologyTest {

    private static final Path TERRAFORM = Path.of("terraform");
    private static final Path FUNCTIONS = Path.of("functions");
    private static final Path TEST_RESOURCES = Path.of("src", "test", "resources");

    // ------------------------------------------------------------------ the files

    @Test
    void everyTerraformFileParsesAndUsesOnlyTheProvidersArguments() throws IOException {
        OfflineTools.Result r = OfflineTools.node("terraform-check.mjs", TERRAFORM.toString())
                .orFail("terraform-check.mjs");
        List<Path> files;
        try (Stream<Path> s = Files.walk(TERRAFORM)) {
            files = s.filter(p -> p.toString().endsWith(".tf") && !p.toString().contains(".terraform")).sorted().toList();
        }
        assertTrue(files.size() >= 6, "module quartet and example: " + files);
        for (Path f : files) {
            assertTrue(r.stdout().contains("checked " + f), f + " was not checked:\n" + r.stdout());
        }
        assertTrue(r.stdout().contains("provider cyrilgdn/rabbitmq ~> 1.10"), r.stdout());
    }

    @Test
    void checkerNamesFileAndLineOfASyntaxErrorAnUnknownArgumentAndALoosePin(@TempDir Path tmp) throws IOException {
        Path copy = copyTree(TERRAFORM, tmp.resolve("terraform"));
        Files.writeString(copy.resolve("broken.tf"), "locals {\n  x = [1,\n}\n");
        Path main = copy.resolve("main.tf");
        List<String> lines = new ArrayList<>(Files.readAllLines(main));
        int at = lines.indexOf("resource \"rabbitmq_binding\" \"dead_letter\" {") + 2;
        assertTrue(at > 1, "the dead-letter binding is in main.tf");
        lines.add(at, "  flavour          = \"x\"");
        Files.write(main, lines);
        Path example = copy.resolve("examples/complete/main.tf");
        Files.writeString(example, Files.readString(example).replace("version = \"~> 1.10\"", "version = \">= 1.0\""));

        OfflineTools.Result r = OfflineTools.node("terraform-check.mjs", copy.toString());
        assertEquals(1, r.exitCode(), r.stdout() + r.stderr());
        assertTrue(r.stderr().contains("broken.tf:3:1: "), r.stderr());
        assertTrue(r.stderr().contains("main.tf:" + (at + 1) + ":3: rabbitmq_binding.dead_letter: the provider has no "
                + "argument \"flavour\""), r.stderr());
        assertTrue(r.stderr().contains("required_providers.rabbitmq.version must be \"~> 1.10\""), r.stderr());
    }

    @Test
    void evaluatorAgreesWithTerraformOnKnownAnswersAndRefusesWhatItDoesNotImplement() {
        OfflineTools.Result r = OfflineTools.node("terraform-selftest.mjs").orFail("terraform-selftest.mjs");
        Matcher m = Pattern.compile("(\\d+) of (\\d+) cases agree with Terraform").matcher(r.stdout());
        assertTrue(m.find(), r.stdout());
        assertEquals(m.group(2), m.group(1));
        assertTrue(Integer.parseInt(m.group(2)) >= 90, "cases: " + m.group(2));
    }

    // ------------------------------------------------------------------ topology: Terraform == runtime

    @ParameterizedTest
    @ValueSource(strings = { "", "stage.eu-" })
    void plansExactlyTheRuntimesTopologyForTheRepositoryFunctions(String prefix) {
        Collection<FunctionDescription> functions = FunctionCatalog.fromDirectory(FUNCTIONS).all();
        TerraformPlan plan = assertSameTopology(FUNCTIONS, prefix, functions);
        Names names = new Names(prefix);
        for (FunctionDescription fn : functions) {
            List<String> queues = new ArrayList<>();
            plan.output("partition_queues").get(fn.name()).forEach(q -> queues.add(q.asText()));
            assertEquals(names.partitions(fn.name(), fn.partitions()), queues, "output partition_queues");
            assertEquals(names.exchange(fn.name()), plan.output("exchanges").get(fn.name()).asText());
            assertEquals(names.deadLetterQueue(fn.name()), plan.output("dead_letter_queues").get(fn.name()).asText());
        }
        assertEquals(names.statusExchange(), plan.output("status_exchange").asText());
        for (JsonNode r : plan.json.get("resources")) {
            JsonNode vhost = r.get("values").get("vhost");
            assertTrue(vhost == null || vhost.asText().equals("/"), r.get("address") + " in vhost " + vhost);
        }
    }

    @Test
    void plansExactlyTheRuntimesTopologyForEveryTestFunctionSet() throws IOException {
        List<Path> dirs;
        try (Stream<Path> s = Files.list(TEST_RESOURCES)) {
            dirs = s.filter(d -> Files.isDirectory(d) && hasDescriptions(d)).sorted().toList();
        }
        assertTrue(dirs.size() >= 4, "test function sets: " + dirs);
        int relaxed = 0;
        for (Path dir : dirs) {
            Collection<FunctionDescription> functions = FunctionCatalog.fromDirectory(dir).all();
            assertSameTopology(dir, "t-", functions);
            relaxed += (int) functions.stream().filter(TerraformTopologyTest::isRelaxed).count();
        }
        assertTrue(relaxed > 0, "relaxed retry mode (delay queues) is covered");
    }

    @Test
    void plansExactlyTheRuntimesTopologyForGeneratedDescriptions(@TempDir Path tmp) throws IOException {
        Random random = new Random(20261128);
        for (int i = 0; i < 24; i++) {
            String name = (i % 3 == 0 ? "gen-x" : "g") + i;
            write(tmp, name, randomDescription(random, name));
        }
        // fixed corners: the most partitions; a ceiling near 2^53 (exact integers); no growth between waits
        write(tmp, "wide", "name: wide\neventTypes: [w.x]\npartitions: 256\nretry:\n  mode: relaxed\n");
        write(tmp, "huge", "name: huge\neventTypes: [h.x]\npartitions: 7\nlimits:\n  depth:\n"
                + "    ceiling: 9007199254740991\n  deadLetterMax: 9007199254740992\n");
        write(tmp, "flat", "name: flat\neventTypes: [f.x]\nretry:\n  mode: relaxed\n  maxAttempts: 9\n"
                + "  multiplier: 1.0\n  initialDelayMs: 0\n");
        write(tmp, "empty", "name: empty\neventTypes: [e.x]\nretry:\nlimits:\n  depth:\n");
        Collection<FunctionDescription> functions = FunctionCatalog.fromDirectory(tmp).all();
        assertSameTopology(tmp, "gen.", functions);
        long relaxed = functions.stream().filter(TerraformTopologyTest::isRelaxed).count();
        long levels = functions.stream().filter(TerraformTopologyTest::isRelaxed)
                .mapToInt(f -> f.retry().delayLevels()).distinct().count();
        assertTrue(relaxed >= 5 && levels >= 3, "relaxed functions " + relaxed + " with " + levels + " level counts");
    }

    @Test
    void withoutAFunctionsDirTheModuleReadsTheRepositoryFunctions() {
        Map<String, String> vars = new LinkedHashMap<>();
        vars.put("gate_password", TerraformPlan.password("gate"));
        vars.put("function_passwords", TerraformPlan.passwords(List.of("orders", "notifications")));
        TerraformPlan byDefault = TerraformPlan.of(TerraformPlan.EXAMPLE, vars);
        TerraformTopology expected = TerraformTopology.ofRuntime(FunctionCatalog.fromDirectory(FUNCTIONS).all(),
                new Names(""));
        assertEquals(List.of(), TerraformTopology.ofPlan(byDefault).differences(expected, "terraform", "runtime"));
    }

    @Test
    void aChangedDescriptionChangesThePlanAndTheComparisonSeesIt(@TempDir Path tmp) throws IOException {
        Path dir = copyTree(FUNCTIONS, tmp.resolve("functions"));
        Path orders = dir.resolve("orders/function.yaml");
        String original = Files.readString(orders);
        assertTrue(original.contains("partitions: 8\n"), original);
        Files.writeString(orders, original.replace("partitions: 8\n", "partitions: 12\n")
                .replace("  maxAttempts: 5\n", "  maxAttempts: 5\n  mode: relaxed\n"));
        Collection<String> names = List.of("orders", "notifications");
        TerraformTopology planned = TerraformTopology.ofPlan(TerraformPlan.forFunctions(dir, "", names, Map.of()));
        TerraformTopology before = TerraformTopology.ofRuntime(FunctionCatalog.fromDirectory(FUNCTIONS).all(), new Names(""));
        TerraformTopology after = TerraformTopology.ofRuntime(FunctionCatalog.fromDirectory(dir).all(), new Names(""));

        List<String> differences = planned.differences(before, "terraform", "runtime");
        assertNotEquals(List.of(), differences);
        assertTrue(differences.contains("queue orders-11 only in terraform: " + planned.queues().get("orders-11")), String.join("\n", differences));
        assertTrue(differences.stream().anyMatch(d -> d.startsWith("queue orders-0 differs")), "x-max-length changed");
        assertTrue(differences.stream().anyMatch(d -> d.startsWith("exchange orders.retry only in terraform")));
        Set<String> added = planned.queueNames();
        added.removeAll(before.queueNames());
        assertEquals(Set.of("orders-8", "orders-9", "orders-10", "orders-11", "orders.retry-1", "orders.retry-2",
                "orders.retry-3", "orders.retry-4"), added);
        assertEquals(List.of(), planned.differences(after, "terraform", "runtime"));
    }

    @Test
    void refusesDescriptionsThatCannotWork(@TempDir Path tmp) throws IOException {
        write(tmp.resolve("a"), "misnamed", "name: other\neventTypes: [a.x]\n");
        assertPlanFails(tmp.resolve("a"), List.of("misnamed"), "the name must equal its folder name 'misnamed'");
        write(tmp.resolve("b"), "lenient", "name: lenient\neventTypes: [b.x]\nretry:\n  mode: lenient\n");
        assertPlanFails(tmp.resolve("b"), List.of("lenient"), "retry.mode must be strict or relaxed");
        write(tmp.resolve("c"), "orders", "name: orders\neventTypes: [c.x]\n");
        write(tmp.resolve("c"), "orders-1", "name: orders-1\neventTypes: [c.y]\n");
        assertPlanFails(tmp.resolve("c"), List.of("orders", "orders-1"), "Function 'orders-1': a name must be 1-40 "
                + "characters matching [a-z][a-z0-9]*(-[a-z0-9]+)*, must not end in -<digits>");
        for (String unsafe : List.of("order.s", "a|b", "pay.*", "amq")) {
            Path dir = tmp.resolve("n" + Math.abs(unsafe.hashCode()));
            write(dir, unsafe, "name: '" + unsafe + "'\neventTypes: [n.x]\n");
            assertPlanFails(dir, List.of(unsafe), "Function '" + unsafe + "': a name must be");
        }
        write(tmp.resolve("d"), "big", "name: big\neventTypes: [d.x]\nlimits:\n  depth:\n    ceiling: 9007199254740993\n");
        assertPlanFails(tmp.resolve("d"), List.of("big"), "must not exceed 2^53");
        Files.createDirectories(tmp.resolve("e"));
        assertPlanFails(tmp.resolve("e"), List.of(), "No function descriptions");
        OfflineTools.Result noPassword = TerraformPlan.run(TerraformPlan.EXAMPLE, Map.of("gate_password", "x",
                "function_passwords", "{}"));
        assertEquals(1, noPassword.exitCode());
        assertTrue(noPassword.stderr().contains("Set function_passwords[\"notifications\"]"), noPassword.stderr());
        OfflineTools.Result badPrefix = TerraformPlan.run(TerraformPlan.EXAMPLE, Map.of("prefix", "a*b",
                "gate_password", "x", "function_passwords", TerraformPlan.passwords(List.of("orders", "notifications"))));
        assertEquals(1, badPrefix.exitCode());
        assertTrue(badPrefix.stderr().contains("The prefix may hold only letters"), badPrefix.stderr());
    }

    // ------------------------------------------------------------------ policy and permissions

    @Test
    void thePolicyCoversThePartitionAndDelayQueuesOnlyAndSetsNoQueueArgument() {
        Path faults = TEST_RESOURCES.resolve("functions-faults");
        Collection<FunctionDescription> functions = FunctionCatalog.fromDirectory(faults).all();
        Names names = new Names("p.q-");
        TerraformPlan plan = TerraformPlan.forFunctions(faults, names.prefix(), functionNames(functions), Map.of());
        JsonNode policy = plan.resource("module.eventline.rabbitmq_policy.quorum_leaders[0]").get("policy").get(0);
        assertEquals("queues", policy.get("apply_to").asText());
        Pattern pattern = Pattern.compile(policy.get("pattern").asText());
        for (FunctionDescription fn : functions) {
            for (TopologySpec.Queue q : TopologySpec.of(fn, names).queues()) {
                boolean quorum = "quorum".equals(q.arguments().get("x-queue-type"));
                assertEquals(quorum, pattern.matcher(q.name()).find(), q.name());
                policy.get("definition").fieldNames().forEachRemaining(key -> assertFalse(
                        q.arguments().containsKey("x-" + key), key + " would compete with the argument of " + q.name()));
            }
            assertFalse(pattern.matcher(names.partitionLock(fn.name(), 0)).find());
            assertFalse(pattern.matcher(names.pauseMarker(fn.name())).find());
            assertFalse(pattern.matcher(fn.name() + "-0").find(), "unprefixed names are not ours");
        }
        assertEquals("balanced", policy.get("definition").get("queue-leader-locator").asText());
    }

    @ParameterizedTest
    @ValueSource(booleans = { true, false })
    void permissionsGrantEachUserWhatTheRuntimeDoesAndNoMore(boolean verifies) {
        Path faults = TEST_RESOURCES.resolve("functions-faults");
        Collection<FunctionDescription> functions = FunctionCatalog.fromDirectory(faults).all();
        Names names = new Names("stage.eu-");
        TerraformPlan plan = TerraformPlan.forFunctions(faults, names.prefix(), functionNames(functions),
                Map.of("runtime_verifies_topology", String.valueOf(verifies), "user_name_prefix", "el-"));
        JsonNode permissions = plan.output("permissions");
        JsonNode users = plan.output("users");
        assertEquals(functions.size() + 1, permissions.size());
        String status = names.statusExchange();
        String gen = "amq.gen-JhKXw1tJJQ3gG8Rr0BP3Qg";
        for (FunctionDescription fn : functions) {
            String f = fn.name();
            String g = functions.stream().map(FunctionDescription::name).filter(n -> !n.equals(f)).findFirst().orElseThrow();
            Perms p = perms(permissions, users.get("fn-" + f).asText());
            p.allows("configure", names.partitionLock(f, 0), names.partitionLock(f, 12), gen);
            p.refuses("configure", names.partitionLock(g, 0), names.pauseMarker(f), "stageXeu-" + f + "-0.owner",
                    f + "-0.owner", status);
            (verifies ? p.allowsAll("configure") : p.refusesAll("configure")).on(names.partition(f, 0),
                    names.partition(g, 0), names.deadLetterQueue(g), names.exchange(g), names.deadLetterExchange(f));
            p.allows("write", names.deadLetterExchange(f), status, gen);
            p.refuses("write", names.deadLetterExchange(g), names.exchange(f), names.exchange(g), names.partition(f, 0),
                    names.deadLetterQueue(f), names.retryExchange(g));
            (isRelaxed(fn) ? p.allowsAll("write") : p.refusesAll("write")).on(names.retryExchange(f));
            p.allows("read", names.partition(f, 0), names.partition(f, 255), status, gen);
            p.refuses("read", names.partition(g, 0), names.deadLetterQueue(f), names.exchange(f),
                    names.partitionLock(f, 0), names.delayQueue(f, 1), "stage.eu-" + f + "-x", "stage.eu" + f + "-0");
        }
        Perms gate = perms(permissions, users.get("gate").asText());
        for (FunctionDescription fn : functions) {
            String f = fn.name();
            gate.allows("configure", names.pauseMarker(f), gen);
            gate.refuses("configure", names.partitionLock(f, 0), status);
            (verifies ? gate.allowsAll("configure") : gate.refusesAll("configure")).on(names.partition(f, 0),
                    names.deadLetterQueue(f));
            gate.allows("write", names.exchange(f), gen);
            gate.refuses("write", names.deadLetterExchange(f), names.partition(f, 0), names.retryExchange(f), status,
                    names.exchange(f) + "x");
            gate.allows("read", names.deadLetterQueue(f), status, gen);
            gate.refuses("read", names.partition(f, 0), names.exchange(f), names.pauseMarker(f), names.delayQueue(f, 1));
        }
    }

    /** pay and pay-out: each function user's regexes stop at its own names, though one name starts the other. */
    @Test
    void permissionsOfFunctionsWhoseNamesStartAlikeCoverOnlyTheirOwnNames() {
        Path prefixed = TEST_RESOURCES.resolve("functions-prefix");
        Names names = new Names("t.1-");
        TerraformPlan plan = TerraformPlan.forFunctions(prefixed, names.prefix(), List.of("pay", "pay-out"), Map.of());
        JsonNode permissions = plan.output("permissions");
        JsonNode users = plan.output("users");
        for (String[] pair : new String[][] { { "pay", "pay-out" }, { "pay-out", "pay" } }) {
            String f = pair[0];
            String g = pair[1];
            Perms p = perms(permissions, users.get("fn-" + f).asText());
            p.allows("read", names.partition(f, 0), names.partition(f, 1));
            p.refuses("read", names.partition(g, 0), names.partition(g, 1), names.delayQueue(g, 1), names.deadLetterQueue(g));
            p.allows("configure", names.partitionLock(f, 0));
            p.refuses("configure", names.partitionLock(g, 0), names.partition(g, 0), names.pauseMarker(g));
            p.allows("write", names.deadLetterExchange(f));
            p.refuses("write", names.deadLetterExchange(g), names.retryExchange(g), names.exchange(g), names.partition(g, 0));
        }
        Perms gate = perms(permissions, users.get("gate").asText());
        gate.allows("write", names.exchange("pay"), names.exchange("pay-out"));
        gate.refuses("write", names.partition("pay", 0), names.exchange("pay") + "-x", names.exchange("pay-outx"));
    }

    /** One user's regexes, applied as RabbitMQ applies them (re:run, unanchored: ours anchor themselves). */
    record Perms(String user, JsonNode regexes) {

        Perms allows(String op, String... names) {
            return check(op, true, names);
        }

        Perms refuses(String op, String... names) {
            return check(op, false, names);
        }

        Target allowsAll(String op) {
            return names -> check(op, true, names);
        }

        Target refusesAll(String op) {
            return names -> check(op, false, names);
        }

        interface Target {
            void on(String... names);
        }

        private Perms check(String op, boolean allowed, String... names) {
            String regex = regexes.get(op).asText();
            assertTrue(regex.startsWith("^") && regex.endsWith("$"), op + " regex of " + user + " is anchored: " + regex);
            for (String name : names) {
                assertEquals(allowed, Pattern.compile(regex).matcher(name).find(),
                        user + " " + op + " " + name + " with " + regex);
            }
            return this;
        }
    }

    private static Perms perms(JsonNode permissions, String user) {
        JsonNode p = permissions.get(user);
        if (p == null) {
            throw new AssertionError("no permissions for " + user + " in " + permissions);
        }
        return new Perms(user, p);
    }

    // ------------------------------------------------------------------ helpers

    /** Plans the descriptions of {@code dir} and asserts the plan's topology is the runtime's, exactly. */
    private static TerraformPlan assertSameTopology(Path dir, String prefix, Collection<FunctionDescription> functions) {
        TerraformPlan plan = TerraformPlan.forFunctions(dir, prefix, functionNames(functions), Map.of());
        TerraformTopology planned = TerraformTopology.ofPlan(plan);
        TerraformTopology runtime = TerraformTopology.ofRuntime(functions, new Names(prefix));
        List<String> differences = planned.differences(runtime, "terraform", "runtime");
        assertTrue(differences.isEmpty(), dir + " with prefix '" + prefix + "':\n" + String.join("\n", differences));
        assertFalse(planned.queues().isEmpty());
        return plan;
    }

    private static void assertPlanFails(Path dir, List<String> functions, String message) {
        Map<String, String> vars = new LinkedHashMap<>();
        vars.put("functions_dir", dir.toAbsolutePath().toString());
        vars.put("gate_password", "x");
        vars.put("function_passwords", TerraformPlan.passwords(functions));
        OfflineTools.Result r = TerraformPlan.run(TerraformPlan.EXAMPLE, vars);
        assertEquals(1, r.exitCode(), "plan of " + dir + " should fail:\n" + r.stdout() + r.stderr());
        assertTrue(r.stderr().contains(message), r.stderr());
        assertTrue(r.stderr().contains("terraform/main.tf:"), "the error names the file and line: " + r.stderr());
    }

    private static List<String> functionNames(Collection<FunctionDescription> functions) {
        return functions.stream().map(FunctionDescription::name).sorted().toList();
    }

    private static boolean isRelaxed(FunctionDescription fn) {
        return fn.retry().mode() == FunctionDescription.RetryMode.RELAXED;
    }

    private static boolean hasDescriptions(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(d -> Files.isRegularFile(d.resolve("function.yaml")));
        } catch (IOException e) {
            return false;
        }
    }

    private static void write(Path dir, String name, String yaml) throws IOException {
        Files.createDirectories(dir.resolve(name));
        Files.writeString(dir.resolve(name).resolve("function.yaml"), yaml);
    }

    private static Path copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.filter(p -> !p.toString().contains(".terraform")).toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        return to;
    }

    /**
     * A valid description with fields omitted or set at random (within what the runtime's parser accepts), so
     * that every default and every derived value (partition length, delivery limit, delays, levels) is
     * exercised in combinations.
     */
    private static String randomDescription(Random r, String name) {
        StringBuilder y = new StringBuilder("# generated\nname: " + name + "\neventTypes: [gen." + name + ".happened]\n");
        int partitions = 4;
        if (r.nextInt(4) > 0) {
            partitions = pick(r, 1, 2, 3, 5, 8, 13, 64);
            y.append("partitions: ").append(partitions).append('\n');
        }
        if (r.nextBoolean()) {
            y.append("concurrency: ").append(1 + r.nextInt(partitions)).append('\n');
        }
        switch (r.nextInt(4)) {
            case 0 -> { }
            case 1 -> y.append("retry:\n");
            default -> {
                y.append("retry:\n");
                if (r.nextInt(3) > 0) {
                    y.append("  maxAttempts: ").append(pick(r, 1, 2, 3, 5, 8, 12, 100)).append('\n');
                }
                Integer initial = r.nextInt(3) > 0 ? pick(r, 0, 1, 50, 100, 333, 1000, 5000) : null;
                if (initial != null) {
                    y.append("  initialDelayMs: ").append(initial).append('\n');
                }
                if (r.nextInt(3) > 0) {
                    y.append("  multiplier: ").append(pick(r, "1.0", "1.1", "1.25", "1.5", "2", "2.0", "3", "10")).append('\n');
                }
                if (r.nextBoolean()) {
                    y.append("  maxDelayMs: ").append((initial == null ? 200 : initial) + pick(r, 0, 1, 250, 7000, 60000)).append('\n');
                }
                if (r.nextInt(3) > 0) {
                    y.append("  mode: ").append(pick(r, "strict", "relaxed", "relaxed")).append('\n');
                }
            }
        }
        switch (r.nextInt(4)) {
            case 0 -> { }
            case 1 -> y.append("limits:\n");
            default -> {
                y.append("limits:\n");
                Integer soft = r.nextBoolean() ? pick(r, 1, 100, 10000, 20000) : null;
                long softEffective = soft == null ? 10_000 : soft;
                Long hard = r.nextBoolean() ? softEffective + pick(r, 0, 5, 40000) : null;
                long hardEffective = hard == null ? Math.max(50_000, softEffective) : hard;
                Long ceiling = r.nextBoolean() ? Math.max(hardEffective, partitions) + pick(r, 0, 1, 7, 99999) : null;
                if (soft != null || hard != null || ceiling != null) {
                    y.append("  depth:\n");
                    if (soft != null) {
                        y.append("    soft: ").append(soft).append('\n');
                    }
                    if (hard != null) {
                        y.append("    hard: ").append(hard).append('\n');
                    }
                    if (ceiling != null) {
                        y.append("    ceiling: ").append(ceiling).append('\n');
                    }
                }
                if (r.nextBoolean()) {
                    y.append("  deadLetterMax: ").append(pick(r, 1, 2, 1000, 123457)).append('\n');
                }
            }
        }
        if (r.nextBoolean()) {
            y.append("dedup:\n  enabled: false\n");
        }
        return y.toString();
    }

    @SafeVarargs
    private static <T> T pick(Random r, T... values) {
        return values[r.nextInt(values.length)];
    }
}
