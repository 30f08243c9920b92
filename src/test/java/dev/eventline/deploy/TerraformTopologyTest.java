package dev.eventline.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.config.DescriptionException;
import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.testsupport.OfflineTools;
import dev.eventline.topology.Names;
import dev.eventline.topology.TopologySpec;

/**
 * The Terraform module in {@code terraform/}, checked offline with real parts only (no terraform binary, no
 * registry, and nothing that evaluates Terraform): every file parses with HashiCorp's parser and uses only the
 * provider's arguments; the committed {@code topology.json} is what the runtime's code writes for the repository's
 * functions; the module is a plain mapping of that file (every argument pinned, as {@link TerraformPlan} reads
 * it); and the resulting topology is exactly the runtime's ({@link TopologySpec}), for the repository's
 * functions, the test functions and generated descriptions, under any prefix, with permissions that grant what
 * the runtime does and no more.
 */
class TerraformTopologyTest {

    private static final Path TERRAFORM = Path.of("terraform");
    private static final Path FUNCTIONS = Path.of("functions");
    private static final Path TEST_RESOURCES = Path.of("src", "test", "resources");

    /**
     * Every argument of every resource (preconditions too), every local and output, and every variable's type,
     * default and validation, as HashiCorp's parser reads them (whitespace collapsed). {@link TerraformPlan}
     * computes each exactly so; change both together.
     */
    private static final String MODULE = """
            local.descriptions = ${path.module}/../functions
            local.descriptions_sha256 = ${try(sha256(join("", [for f in sort(fileset(local.descriptions, "*/function.yaml")) : filesha256("${local.descriptions}/${f}")])), "")}
            local.granted = {"admin_enabled":"${var.admin_enabled}","always":true,"gate_may_repartition":"${var.gate_may_repartition}","runtime_verifies_topology":"${var.runtime_verifies_topology}"}
            local.grants = ["always","admin_enabled","runtime_verifies_topology","gate_may_repartition"]
            local.permissions = ${{ for role, ops in local.topology.permissions : role => { for op, pieces in ops : op => "^(?:${local.prefix_re}(?:${join("|", distinct(flatten([for g in local.grants : pieces[g] if local.granted[g]])))})|amq\\\\.gen-.*)$" } }}
            local.prefix_re = ${replace(var.prefix, ".", "\\\\.")}
            local.topology = ${jsondecode(file(coalesce(var.topology_file, "${path.module}/topology.json")))}
            local.user_names = ${{ for role in keys(local.topology.permissions) : role => "${var.user_name_prefix}${role}" }}
            local.vhost = ${var.create_vhost ? rabbitmq_vhost.this[0].name : var.vhost}
            output.dead_letter_exchanges = ${{ for name, e in rabbitmq_exchange.dead_letter : name => e.name }}
            output.dead_letter_queues = ${{ for name, q in rabbitmq_queue.dead_letter : name => q.name }}
            output.delay_queues = ${{ for name, f in local.topology.functions : name => [for key in f.delay_queues : rabbitmq_queue.delay[key].name] if length(f.delay_queues) > 0 }}
            output.exchanges = ${{ for name, e in rabbitmq_exchange.function : name => e.name }}
            output.partition_queues = ${{ for name, f in local.topology.functions : name => [for key in f.partitions : rabbitmq_queue.partition[key].name] }}
            output.permissions = ${{ for role, p in local.permissions : local.user_names[role] => p }}
            output.retry_exchanges = ${{ for name, e in rabbitmq_exchange.retry : name => e.name }}
            output.runtime_settings = ${merge( { gate = { user = local.user_names.gate environment = merge({ EVENTLINE_TOPOLOGY_DECLARE = "false" EVENTLINE_GATE_ENABLED = "true" EVENTLINE_FUNCTIONS_ENABLED = "none" EVENTLINE_ADMIN_ENABLED = tostring(var.admin_enabled) }, var.prefix != "" ? { EVENTLINE_TOPOLOGY_PREFIX = var.prefix } : {}) } }, { for name, f in local.topology.functions : "fn-${name}" => { user = local.user_names["fn-${name}"] environment = merge({ EVENTLINE_TOPOLOGY_DECLARE = "false" EVENTLINE_GATE_ENABLED = "false" EVENTLINE_FUNCTIONS_ENABLED = name }, var.prefix != "" ? { EVENTLINE_TOPOLOGY_PREFIX = var.prefix } : {}) } } )}
            output.status_exchange = ${rabbitmq_exchange.status.name}
            output.users = ${merge(local.user_names, var.create_keda_user ? { keda = "${var.user_name_prefix}keda" } : {})}
            output.vhost = ${local.vhost}
            rabbitmq_binding.dead_letter.destination = ${rabbitmq_queue.dead_letter[each.key].name}
            rabbitmq_binding.dead_letter.destination_type = queue
            rabbitmq_binding.dead_letter.for_each = ${local.topology.dead_letter_queues}
            rabbitmq_binding.dead_letter.routing_key = 
            rabbitmq_binding.dead_letter.source = ${rabbitmq_exchange.dead_letter[each.value.function].name}
            rabbitmq_binding.dead_letter.vhost = ${local.vhost}
            rabbitmq_binding.delay.arguments_json = ${jsonencode(each.value.binding_arguments)}
            rabbitmq_binding.delay.destination = ${rabbitmq_queue.delay[each.key].name}
            rabbitmq_binding.delay.destination_type = queue
            rabbitmq_binding.delay.for_each = ${local.topology.delay_queues}
            rabbitmq_binding.delay.routing_key = 
            rabbitmq_binding.delay.source = ${rabbitmq_exchange.retry[each.value.function].name}
            rabbitmq_binding.delay.vhost = ${local.vhost}
            rabbitmq_binding.partition.destination = ${rabbitmq_queue.partition[each.key].name}
            rabbitmq_binding.partition.destination_type = queue
            rabbitmq_binding.partition.for_each = ${local.topology.partitions}
            rabbitmq_binding.partition.routing_key = ${each.value.routing_key}
            rabbitmq_binding.partition.source = ${rabbitmq_exchange.function[each.value.function].name}
            rabbitmq_binding.partition.vhost = ${local.vhost}
            rabbitmq_exchange.dead_letter.for_each = ${local.topology.dead_letter_exchanges}
            rabbitmq_exchange.dead_letter.name = ${var.prefix}${each.value.name}
            rabbitmq_exchange.dead_letter.settings.auto_delete = false
            rabbitmq_exchange.dead_letter.settings.durable = true
            rabbitmq_exchange.dead_letter.settings.type = ${each.value.type}
            rabbitmq_exchange.dead_letter.vhost = ${local.vhost}
            rabbitmq_exchange.function.for_each = ${local.topology.exchanges}
            rabbitmq_exchange.function.name = ${var.prefix}${each.value.name}
            rabbitmq_exchange.function.settings.auto_delete = false
            rabbitmq_exchange.function.settings.durable = true
            rabbitmq_exchange.function.settings.type = ${each.value.type}
            rabbitmq_exchange.function.vhost = ${local.vhost}
            rabbitmq_exchange.retry.for_each = ${local.topology.retry_exchanges}
            rabbitmq_exchange.retry.name = ${var.prefix}${each.value.name}
            rabbitmq_exchange.retry.settings.auto_delete = false
            rabbitmq_exchange.retry.settings.durable = true
            rabbitmq_exchange.retry.settings.type = ${each.value.type}
            rabbitmq_exchange.retry.vhost = ${local.vhost}
            rabbitmq_exchange.status.lifecycle.precondition.condition = ${var.topology_file != null || try(local.topology.descriptions_sha256, "") == local.descriptions_sha256}
            rabbitmq_exchange.status.lifecycle.precondition.error_message = topology.json was not written from the function descriptions in functions/ as they are now: regenerate it with ./mvnw -q -Pmanifests process-test-classes (and commit it) before planning.
            rabbitmq_exchange.status.name = ${var.prefix}${local.topology.status_exchange}
            rabbitmq_exchange.status.settings.auto_delete = false
            rabbitmq_exchange.status.settings.durable = true
            rabbitmq_exchange.status.settings.type = fanout
            rabbitmq_exchange.status.vhost = ${local.vhost}
            rabbitmq_permissions.function.for_each = ${{ for name, f in local.topology.functions : name => f if var.create_users }}
            rabbitmq_permissions.function.permissions.configure = ${local.permissions["fn-${each.key}"].configure}
            rabbitmq_permissions.function.permissions.read = ${local.permissions["fn-${each.key}"].read}
            rabbitmq_permissions.function.permissions.write = ${local.permissions["fn-${each.key}"].write}
            rabbitmq_permissions.function.user = ${rabbitmq_user.function[each.key].name}
            rabbitmq_permissions.function.vhost = ${local.vhost}
            rabbitmq_permissions.gate.count = ${var.create_users ? 1 : 0}
            rabbitmq_permissions.gate.permissions.configure = ${local.permissions.gate.configure}
            rabbitmq_permissions.gate.permissions.read = ${local.permissions.gate.read}
            rabbitmq_permissions.gate.permissions.write = ${local.permissions.gate.write}
            rabbitmq_permissions.gate.user = ${rabbitmq_user.gate[0].name}
            rabbitmq_permissions.gate.vhost = ${local.vhost}
            rabbitmq_permissions.keda.count = ${var.create_keda_user ? 1 : 0}
            rabbitmq_permissions.keda.permissions.configure = ^$
            rabbitmq_permissions.keda.permissions.read = ^$
            rabbitmq_permissions.keda.permissions.write = ^$
            rabbitmq_permissions.keda.user = ${rabbitmq_user.keda[0].name}
            rabbitmq_permissions.keda.vhost = ${local.vhost}
            rabbitmq_policy.quorum_leaders.count = ${var.leader_locator_policy ? 1 : 0}
            rabbitmq_policy.quorum_leaders.name = ${var.prefix}eventline-quorum-leaders
            rabbitmq_policy.quorum_leaders.policy.apply_to = queues
            rabbitmq_policy.quorum_leaders.policy.definition = {"queue-leader-locator":"balanced"}
            rabbitmq_policy.quorum_leaders.policy.pattern = ^${local.prefix_re}${local.topology.quorum_queues}$
            rabbitmq_policy.quorum_leaders.policy.priority = ${var.policy_priority}
            rabbitmq_policy.quorum_leaders.vhost = ${local.vhost}
            rabbitmq_queue.dead_letter.for_each = ${local.topology.dead_letter_queues}
            rabbitmq_queue.dead_letter.name = ${var.prefix}${each.value.name}
            rabbitmq_queue.dead_letter.settings.arguments_json = ${jsonencode(each.value.arguments)}
            rabbitmq_queue.dead_letter.settings.auto_delete = false
            rabbitmq_queue.dead_letter.settings.durable = true
            rabbitmq_queue.dead_letter.vhost = ${local.vhost}
            rabbitmq_queue.delay.for_each = ${local.topology.delay_queues}
            rabbitmq_queue.delay.name = ${var.prefix}${each.value.name}
            rabbitmq_queue.delay.settings.arguments_json = ${jsonencode(each.value.arguments)}
            rabbitmq_queue.delay.settings.auto_delete = false
            rabbitmq_queue.delay.settings.durable = true
            rabbitmq_queue.delay.vhost = ${local.vhost}
            rabbitmq_queue.partition.for_each = ${local.topology.partitions}
            rabbitmq_queue.partition.name = ${var.prefix}${each.value.name}
            rabbitmq_queue.partition.settings.arguments_json = ${jsonencode(merge(each.value.arguments, { "x-dead-letter-exchange" = rabbitmq_exchange.dead_letter[each.value.function].name }))}
            rabbitmq_queue.partition.settings.auto_delete = false
            rabbitmq_queue.partition.settings.durable = true
            rabbitmq_queue.partition.vhost = ${local.vhost}
            rabbitmq_user.function.for_each = ${{ for name, f in local.topology.functions : name => f if var.create_users }}
            rabbitmq_user.function.lifecycle.precondition.condition = ${lookup(var.function_passwords, each.key, "") != ""}
            rabbitmq_user.function.lifecycle.precondition.error_message = Set function_passwords["${each.key}"] (or create_users = false).
            rabbitmq_user.function.name = ${local.user_names["fn-${each.key}"]}
            rabbitmq_user.function.password = ${lookup(var.function_passwords, each.key, null)}
            rabbitmq_user.gate.count = ${var.create_users ? 1 : 0}
            rabbitmq_user.gate.lifecycle.precondition.condition = ${var.gate_password != null && var.gate_password != ""}
            rabbitmq_user.gate.lifecycle.precondition.error_message = Set gate_password (or create_users = false).
            rabbitmq_user.gate.name = ${local.user_names.gate}
            rabbitmq_user.gate.password = ${var.gate_password}
            rabbitmq_user.keda.count = ${var.create_keda_user ? 1 : 0}
            rabbitmq_user.keda.lifecycle.precondition.condition = ${var.keda_password != null && var.keda_password != ""}
            rabbitmq_user.keda.lifecycle.precondition.error_message = Set keda_password (or create_keda_user = false).
            rabbitmq_user.keda.name = ${var.user_name_prefix}keda
            rabbitmq_user.keda.password = ${var.keda_password}
            rabbitmq_user.keda.tags = ["management"]
            rabbitmq_vhost.this.count = ${var.create_vhost ? 1 : 0}
            rabbitmq_vhost.this.name = ${var.vhost}
            variable.admin_enabled.default = true
            variable.admin_enabled.type = ${bool}
            variable.create_keda_user.default = false
            variable.create_keda_user.type = ${bool}
            variable.create_users.default = true
            variable.create_users.type = ${bool}
            variable.create_vhost.default = false
            variable.create_vhost.type = ${bool}
            variable.function_passwords.default = {}
            variable.function_passwords.sensitive = true
            variable.function_passwords.type = ${map(string)}
            variable.gate_may_repartition.default = false
            variable.gate_may_repartition.type = ${bool}
            variable.gate_password.default = null
            variable.gate_password.sensitive = true
            variable.gate_password.type = ${string}
            variable.keda_password.default = null
            variable.keda_password.sensitive = true
            variable.keda_password.type = ${string}
            variable.leader_locator_policy.default = true
            variable.leader_locator_policy.type = ${bool}
            variable.policy_priority.default = 10
            variable.policy_priority.type = ${number}
            variable.prefix.default = 
            variable.prefix.type = ${string}
            variable.prefix.validation.condition = ${can(regex("^[A-Za-z0-9._-]*$", var.prefix))}
            variable.prefix.validation.error_message = The prefix may hold only letters, digits, '.', '_' and '-' (it is escaped into permission regexes).
            variable.runtime_verifies_topology.default = false
            variable.runtime_verifies_topology.type = ${bool}
            variable.topology_file.default = null
            variable.topology_file.type = ${string}
            variable.user_name_prefix.default = eventline-
            variable.user_name_prefix.type = ${string}
            variable.vhost.default = /
            variable.vhost.type = ${string}""";

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
        Files.writeString(example, Files.readString(example).replace("version = \"~> 1.10\"", "version = \">= 1.0\"")
                .replace("  topology_file      = var.topology_file\n", "  functions_dir      = local.functions\n"));

        OfflineTools.Result r = OfflineTools.node("terraform-check.mjs", copy.toString());
        assertEquals(1, r.exitCode(), r.stdout() + r.stderr());
        assertTrue(r.stderr().contains("broken.tf:3:1: "), r.stderr());
        assertTrue(r.stderr().contains("main.tf:" + (at + 1) + ":3: rabbitmq_binding.dead_letter: the provider has no "
                + "argument \"flavour\""), r.stderr());
        assertTrue(r.stderr().contains("required_providers.rabbitmq.version must be \"~> 1.10\""), r.stderr());
        // a module call with a variable the module does not have (the one topology_file replaced), and a reference
        // to a local nobody declared
        assertTrue(r.stderr().contains("module eventline: ../.. has no variable \"functions_dir\""), r.stderr());
        assertTrue(r.stderr().contains("local.functions is not declared"), r.stderr());
    }

    @Test
    void theCommittedTopologyFileIsWhatTheRuntimesCodeWritesForTheRepositorysFunctions() throws IOException {
        String expected = TopologyFile.render(FUNCTIONS);
        String committed = Files.readString(Path.of(TopologyFile.PATH));
        if (!committed.equals(expected)) {
            fail(TopologyFile.PATH + " does not match the function descriptions. Regenerate it with\n  "
                    + Manifests.REGENERATE + "\nthen review the diff and commit it.");
        }
    }

    @Test
    void theModuleOnlyMapsTheTopologyFileArgumentByArgument() {
        Map<String, String> actual = new TreeMap<>();
        for (String file : List.of("main.tf", "users.tf", "outputs.tf", "variables.tf")) {
            JsonNode json = TerraformPlan.readJson(OfflineTools.node("terraform-check.mjs", "--json",
                    TERRAFORM.resolve(file).toString()).orFail("hcl2json " + file).stdout());
            json.path("resource").fields().forEachRemaining(type -> type.getValue().fields().forEachRemaining(
                    r -> flatten(type.getKey() + "." + r.getKey() + ".", r.getValue().get(0), actual)));
            json.path("locals").forEach(l -> l.fields().forEachRemaining(e -> actual.put("local." + e.getKey(), text(e.getValue()))));
            json.path("output").fields().forEachRemaining(o -> actual.put("output." + o.getKey(), text(o.getValue().get(0).get("value"))));
            json.path("variable").fields().forEachRemaining(v -> {
                ObjectNode body = v.getValue().get(0).deepCopy();
                body.remove("description"); // prose
                flatten("variable." + v.getKey() + ".", body, actual);
            });
        }
        Map<String, String> expected = new TreeMap<>();
        MODULE.lines().forEach(l -> expected.put(l.substring(0, l.indexOf(" =")), l.substring(l.indexOf(" =") + 2).strip()));
        List<String> differences = new ArrayList<>();
        expected.forEach((k, v) -> {
            if (!v.equals(actual.get(k))) {
                differences.add(k + "\n    expected " + v + "\n    module   " + actual.get(k));
            }
        });
        actual.keySet().stream().filter(k -> !expected.containsKey(k)).forEach(k -> differences.add(k + " = " + actual.get(k) + "  (new)"));
        assertTrue(differences.isEmpty(), "terraform/ changed: change TerraformPlan, which mirrors it, and this list:\n"
                + String.join("\n", differences));
    }

    // ------------------------------------------------------------------ topology: Terraform == runtime

    @ParameterizedTest
    @ValueSource(strings = { "", "stage.eu-" })
    void theCommittedFileGivesExactlyTheRuntimesTopologyForTheRepositoryFunctions(String prefix) throws IOException {
        Collection<FunctionDescription> functions = FunctionCatalog.fromDirectory(FUNCTIONS).all();
        TerraformPlan plan = TerraformPlan.of(Files.readString(Path.of(TopologyFile.PATH)), prefix, Map.of());
        assertSameTopology(plan, prefix, functions, "the committed topology.json");
        Names names = new Names(prefix);
        assertEquals(names.statusExchange(), plan.resource("rabbitmq_exchange.status").get("name").asText());
        for (FunctionDescription fn : functions) {
            assertEquals(names.exchange(fn.name()),
                    plan.resource("rabbitmq_exchange.function[\"" + fn.name() + "\"]").get("name").asText());
        }
        for (JsonNode r : plan.resources("rabbitmq_queue")) {
            assertEquals("/", r.get("values").get("vhost").asText(), r.get("address").asText());
        }
    }

    @Test
    void givesExactlyTheRuntimesTopologyForEveryTestFunctionSet() throws IOException {
        List<Path> dirs;
        try (Stream<Path> s = Files.list(TEST_RESOURCES)) {
            dirs = s.filter(d -> Files.isDirectory(d) && hasDescriptions(d)).sorted().toList();
        }
        assertTrue(dirs.size() >= 4, "test function sets: " + dirs);
        int relaxed = 0;
        for (Path dir : dirs) {
            Collection<FunctionDescription> functions = FunctionCatalog.fromDirectory(dir).all();
            assertSameTopology(TerraformPlan.of(functions, "t-", Map.of()), "t-", functions, dir.toString());
            relaxed += (int) functions.stream().filter(TerraformTopologyTest::isRelaxed).count();
        }
        assertTrue(relaxed > 0, "relaxed retry mode (delay queues) is covered");
    }

    @Test
    void givesExactlyTheRuntimesTopologyForGeneratedDescriptions(@TempDir Path tmp) throws IOException {
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
        assertSameTopology(TerraformPlan.of(functions, "gen.", Map.of()), "gen.", functions, "generated");
        long relaxed = functions.stream().filter(TerraformTopologyTest::isRelaxed).count();
        long levels = functions.stream().filter(TerraformTopologyTest::isRelaxed)
                .mapToInt(f -> f.retry().delayLevels()).distinct().count();
        assertTrue(relaxed >= 5 && levels >= 3, "relaxed functions " + relaxed + " with " + levels + " level counts");
    }

    @Test
    void aChangedDescriptionChangesTheFileAndTheComparisonSeesIt(@TempDir Path tmp) throws IOException {
        Path dir = copyTree(FUNCTIONS, tmp.resolve("functions"));
        Path orders = dir.resolve("orders/function.yaml");
        String original = Files.readString(orders);
        assertTrue(original.contains("partitions: 8\n"), original);
        Files.writeString(orders, original.replace("partitions: 8\n", "partitions: 12\n")
                .replace("  maxAttempts: 5\n", "  maxAttempts: 5\n  mode: relaxed\n"));
        Collection<FunctionDescription> changed = FunctionCatalog.fromDirectory(dir).all();
        TerraformTopology planned = TerraformTopology.ofPlan(TerraformPlan.of(changed, "", Map.of()));
        TerraformTopology before = TerraformTopology.ofRuntime(FunctionCatalog.fromDirectory(FUNCTIONS).all(), new Names(""));

        assertFalse(TopologyFile.render(dir).equals(Files.readString(Path.of(TopologyFile.PATH))),
                "the committed file is stale now: the drift check would fail");
        assertFalse(TopologyFile.sha256(dir).equals(TopologyFile.sha256(FUNCTIONS)),
                "and the module's precondition, which compares the descriptions' hash, would stop the plan");
        Files.writeString(orders, original);
        assertEquals(TopologyFile.sha256(FUNCTIONS), TopologyFile.sha256(dir), "the hash is of the bytes alone");
        List<String> differences = planned.differences(before, "terraform", "runtime");
        assertTrue(differences.contains("queue orders-11 only in terraform: " + planned.queues().get("orders-11")), String.join("\n", differences));
        assertTrue(differences.stream().anyMatch(d -> d.startsWith("queue orders-0 differs")), "x-max-length changed");
        assertTrue(differences.stream().anyMatch(d -> d.startsWith("exchange orders.retry only in terraform")));
        assertEquals(List.of(), planned.differences(TerraformTopology.ofRuntime(changed, new Names("")), "terraform", "runtime"));
    }

    @Test
    void refusesDescriptionsThatCannotWork(@TempDir Path tmp) throws IOException {
        // the runtime's parser refuses these before anything is written
        write(tmp.resolve("a"), "misnamed", "name: other\neventTypes: [a.x]\n");
        assertRefused(tmp.resolve("a"), "must equal its folder name 'misnamed'");
        write(tmp.resolve("b"), "lenient", "name: lenient\neventTypes: [b.x]\nretry:\n  mode: lenient\n");
        assertRefused(tmp.resolve("b"), "lenient");
        for (String unsafe : List.of("orders-1", "order.s", "a|b", "pay.*", "amq")) {
            Path dir = tmp.resolve("n" + Math.abs(unsafe.hashCode()));
            write(dir, unsafe, "name: '" + unsafe + "'\neventTypes: [n.x]\n");
            assertRefused(dir, unsafe);
        }
        // and the generator what the provider cannot pass, or nothing at all
        write(tmp.resolve("d"), "big", "name: big\neventTypes: [d.x]\npartitions: 1\nlimits:\n  depth:\n    ceiling: 9007199254740993\n");
        assertRefused(tmp.resolve("d"), "more than 2^53");
        Files.createDirectories(tmp.resolve("e"));
        assertRefused(tmp.resolve("e"), "no function descriptions");
    }

    // ------------------------------------------------------------------ policy and permissions

    @Test
    void thePolicyCoversThePartitionAndDelayQueuesOnlyAndSetsNoQueueArgument() {
        Collection<FunctionDescription> functions = FunctionCatalog.fromDirectory(TEST_RESOURCES.resolve("functions-faults")).all();
        Names names = new Names("p.q-");
        TerraformPlan plan = TerraformPlan.of(functions, names.prefix(), Map.of());
        JsonNode policy = plan.resource("rabbitmq_policy.quorum_leaders[0]").get("policy").get(0);
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
            assertFalse(pattern.matcher("p-q-" + fn.name() + "-0").find(), "the prefix's '.' is literal");
        }
        assertEquals("balanced", policy.get("definition").get("queue-leader-locator").asText());
    }

    @ParameterizedTest
    @ValueSource(booleans = { true, false })
    void permissionsGrantEachUserWhatTheRuntimeDoesAndNoMore(boolean verifies) {
        Collection<FunctionDescription> functions = FunctionCatalog.fromDirectory(TEST_RESOURCES.resolve("functions-faults")).all();
        Names names = new Names("stage.eu-");
        TerraformPlan plan = TerraformPlan.of(functions, names.prefix(),
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

    @Test
    void theGatesGrantsFollowTheAdminAndRepartitionVariables() {
        Collection<FunctionDescription> functions = FunctionCatalog.fromDirectory(TEST_RESOURCES.resolve("functions-faults")).all();
        Names names = new Names("");
        String f = functions.iterator().next().name();
        Perms closed = perms(TerraformPlan.of(functions, "", Map.of("admin_enabled", "false")).output("permissions"), "eventline-gate");
        closed.refuses("configure", names.pauseMarker(f)).refuses("read", names.deadLetterQueue(f)).allows("write", names.exchange(f));
        Perms open = perms(TerraformPlan.of(functions, "", Map.of("gate_may_repartition", "true")).output("permissions"), "eventline-gate");
        open.allows("configure", names.partition(f, 3), names.pauseMarker(f)).allows("write", names.partition(f, 3))
                .allows("read", names.partition(f, 3)).refuses("configure", names.partitionLock(f, 3));
    }

    /** pay and pay-out: each function user's regexes stop at its own names, though one name starts the other. */
    @Test
    void permissionsOfFunctionsWhoseNamesStartAlikeCoverOnlyTheirOwnNames() {
        Names names = new Names("t.1-");
        TerraformPlan plan = TerraformPlan.of(FunctionCatalog.fromDirectory(TEST_RESOURCES.resolve("functions-prefix")).all(),
                names.prefix(), Map.of());
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
        // the pieces join in the order of the module before topology.json, so an applied state plans no update
        assertEquals("^(?:t\\.1-(?:eventline\\.status|(?:pay|pay-out)\\.dlq)|amq\\.gen-.*)$", gate.regexes().get("read").asText());
        assertEquals("^(?:t\\.1-(?:(?:pay|pay-out)\\.paused)|amq\\.gen-.*)$", gate.regexes().get("configure").asText());
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

    /** The plan's topology is the runtime's for these functions under this prefix, exactly. */
    private static void assertSameTopology(TerraformPlan plan, String prefix, Collection<FunctionDescription> functions,
            String what) {
        TerraformTopology planned = TerraformTopology.ofPlan(plan);
        List<String> differences = planned.differences(TerraformTopology.ofRuntime(functions, new Names(prefix)),
                "terraform", "runtime");
        assertTrue(differences.isEmpty(), what + " with prefix '" + prefix + "':\n" + String.join("\n", differences));
        assertFalse(planned.queues().isEmpty());
    }

    private static void assertRefused(Path dir, String message) {
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> TopologyFile.render(FunctionCatalog.fromDirectory(dir).all()), dir.toString());
        assertTrue(e instanceof DescriptionException || e instanceof IllegalArgumentException, String.valueOf(e));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    /** A resource body as hcl2json gives it, one entry per argument: nested blocks (lifecycle too) by their path. */
    private static void flatten(String path, JsonNode body, Map<String, String> out) {
        body.fields().forEachRemaining(e -> {
            JsonNode v = e.getValue();
            if (v.isArray() && v.size() > 0 && v.get(0).isObject()) {
                v.forEach(b -> flatten(path + e.getKey() + ".", b, out));
            } else {
                out.put(path + e.getKey(), text(v));
            }
        });
    }

    private static String text(JsonNode v) {
        return (v.isTextual() ? v.asText() : v.toString()).replaceAll("\\s+", " ").strip();
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
