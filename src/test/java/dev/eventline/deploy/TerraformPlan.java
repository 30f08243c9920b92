package dev.eventline.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;

/**
 * What {@code terraform/} creates from a topology file ({@link TopologyFile}) with given variables: every resource
 * instance with its arguments, and the outputs the tests read (users, permissions). Terraform is not installed
 * here, and nothing re-implements it: the module only iterates over the file's maps and puts the prefix before
 * the names, and this class does the same, one line per argument. {@code TerraformTopologyTest} pins every
 * argument expression of the module to the one this class assumes, so the two cannot drift apart silently.
 */
final class TerraformPlan {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);
    /** The module's variables and their defaults (terraform/variables.tf), as -var strings. */
    static final Map<String, String> DEFAULTS = Map.ofEntries(Map.entry("prefix", ""), Map.entry("vhost", "/"),
            Map.entry("create_vhost", "false"), Map.entry("leader_locator_policy", "true"),
            Map.entry("policy_priority", "10"), Map.entry("create_users", "true"),
            Map.entry("user_name_prefix", "eventline-"), Map.entry("runtime_verifies_topology", "false"),
            Map.entry("admin_enabled", "true"), Map.entry("gate_may_repartition", "false"),
            Map.entry("create_keda_user", "false"));

    private final List<ObjectNode> resources = new ArrayList<>();
    private final ObjectNode outputs = JSON.createObjectNode();

    private TerraformPlan(JsonNode topology, Map<String, String> given) {
        Map<String, String> v = new LinkedHashMap<>(DEFAULTS);
        given.keySet().stream().filter(k -> !DEFAULTS.containsKey(k)).findFirst().ifPresent(k -> {
            throw new IllegalArgumentException("the module has no variable " + k + " that shapes a plan (passwords come with apply)");
        });
        v.putAll(given);
        if (topology.path("format").asInt() != TopologyFile.FORMAT) {
            throw new IllegalArgumentException("the topology file is not of format " + TopologyFile.FORMAT);
        }
        String prefix = v.get("prefix");
        String vhost = v.get("vhost");
        if (bool(v, "create_vhost")) {
            add("rabbitmq_vhost", "this", "[0]").put("name", vhost);
        }
        exchange("status", "", prefix + topology.get("status_exchange").asText(), "fanout", vhost);
        for (String kind : List.of("function:exchanges", "dead_letter:dead_letter_exchanges", "retry:retry_exchanges")) {
            String[] resource = kind.split(":");
            topology.get(resource[1]).fields().forEachRemaining(e -> exchange(resource[0], key(e.getKey()),
                    prefix + e.getValue().get("name").asText(), e.getValue().get("type").asText(), vhost));
        }
        topology.get("partitions").fields().forEachRemaining(e -> {
            JsonNode p = e.getValue();
            Map<String, JsonNode> merged = new TreeMap<>(fields(p.get("arguments"))); // jsonencode sorts the keys
            merged.put("x-dead-letter-exchange", JSON.getNodeFactory().textNode(
                    prefix + topology.get("dead_letter_exchanges").get(p.get("function").asText()).get("name").asText()));
            ObjectNode arguments = JSON.createObjectNode().setAll(merged);
            queue("partition", e.getKey(), prefix + p.get("name").asText(), arguments, vhost);
            binding("partition", e.getKey(), prefix + topology.get("exchanges").get(p.get("function").asText()).get("name").asText(),
                    prefix + p.get("name").asText(), p.get("routing_key").asText(), null, vhost);
        });
        topology.get("dead_letter_queues").fields().forEachRemaining(e -> {
            JsonNode q = e.getValue();
            queue("dead_letter", e.getKey(), prefix + q.get("name").asText(), q.get("arguments"), vhost);
            binding("dead_letter", e.getKey(), prefix + topology.get("dead_letter_exchanges").get(q.get("function").asText()).get("name").asText(),
                    prefix + q.get("name").asText(), "", null, vhost);
        });
        topology.get("delay_queues").fields().forEachRemaining(e -> {
            JsonNode q = e.getValue();
            queue("delay", e.getKey(), prefix + q.get("name").asText(), q.get("arguments"), vhost);
            binding("delay", e.getKey(), prefix + topology.get("retry_exchanges").get(q.get("function").asText()).get("name").asText(),
                    prefix + q.get("name").asText(), "", q.get("binding_arguments"), vhost);
        });
        String prefixRe = prefix.replace(".", "\\.");
        if (bool(v, "leader_locator_policy")) {
            ObjectNode policy = add("rabbitmq_policy", "quorum_leaders", "[0]").put("name", prefix + "eventline-quorum-leaders")
                    .put("vhost", vhost).putArray("policy").addObject()
                    .put("pattern", "^" + prefixRe + topology.get("quorum_queues").asText() + "$")
                    .put("priority", Integer.parseInt(v.get("policy_priority"))).put("apply_to", "queues");
            policy.putObject("definition").put("queue-leader-locator", "balanced");
        }
        ObjectNode users = outputs.putObject("users");
        ObjectNode permissions = outputs.putObject("permissions");
        Map<String, JsonNode> roles = new TreeMap<>(); // Terraform iterates a map in the order of its keys
        topology.get("permissions").fields().forEachRemaining(e -> roles.put(e.getKey(), e.getValue()));
        roles.forEach((role, ops) -> {
            String user = v.get("user_name_prefix") + role;
            users.put(role, user);
            ObjectNode regexes = permissions.putObject(user);
            ops.fields().forEachRemaining(op -> {
                Set<String> names = new LinkedHashSet<>();
                for (String grant : TopologyFile.GRANTS) { // local.grants, in its order
                    if (grant.equals(TopologyFile.ALWAYS) || bool(v, grant)) {
                        JsonNode pieces = op.getValue().get(grant);
                        if (pieces == null) {
                            throw new IllegalArgumentException(role + "." + op.getKey() + " has no grant " + grant);
                        }
                        pieces.forEach(n -> names.add(n.asText()));
                    }
                }
                regexes.put(op.getKey(), "^(?:" + prefixRe + "(?:" + String.join("|", names) + ")|amq\\.gen-.*)$");
            });
            if (bool(v, "create_users")) {
                String resource = role.equals("gate") ? "gate" : "function";
                String key = role.equals("gate") ? "[0]" : key(role.substring("fn-".length()));
                add("rabbitmq_user", resource, key).put("name", user);
                ObjectNode p = add("rabbitmq_permissions", resource, key).put("user", user).put("vhost", vhost)
                        .putArray("permissions").addObject();
                p.setAll(regexes);
            }
        });
        if (bool(v, "create_keda_user")) {
            users.put("keda", v.get("user_name_prefix") + "keda");
            add("rabbitmq_user", "keda", "[0]").put("name", v.get("user_name_prefix") + "keda").putArray("tags").add("management");
            add("rabbitmq_permissions", "keda", "[0]").put("user", v.get("user_name_prefix") + "keda").put("vhost", vhost)
                    .putArray("permissions").addObject().put("configure", "^$").put("write", "^$").put("read", "^$");
        }
    }

    /** The plan for the topology file these descriptions give, with these variables (defaults for the rest). */
    static TerraformPlan forFunctions(Path functionsDir, String prefix, Map<String, String> vars) {
        return of(TopologyFile.render(FunctionCatalog.fromDirectory(functionsDir).all()), prefix, vars);
    }

    static TerraformPlan of(Collection<FunctionDescription> functions, String prefix, Map<String, String> vars) {
        return of(TopologyFile.render(functions), prefix, vars);
    }

    static TerraformPlan of(String topologyFile, String prefix, Map<String, String> vars) {
        Map<String, String> all = new LinkedHashMap<>(vars);
        all.put("prefix", prefix);
        return new TerraformPlan(readJson(topologyFile), all);
    }

    /** The password the tests give a role's user. */
    static String password(String role) {
        return "pw-" + role + "-0123456789";
    }

    /** Planned instances of one resource type. */
    List<JsonNode> resources(String type) {
        return resources.stream().filter(r -> r.get("type").asText().equals(type)).map(r -> (JsonNode) r).toList();
    }

    /** Planned instance by address, e.g. {@code rabbitmq_policy.quorum_leaders[0]}. */
    JsonNode resource(String address) {
        return resources.stream().filter(r -> r.get("address").asText().equals(address)).findFirst()
                .map(r -> r.get("values")).orElseThrow(() -> new AssertionError("no planned resource " + address));
    }

    JsonNode output(String name) {
        JsonNode v = outputs.get(name);
        if (v == null) {
            throw new AssertionError("no output " + name);
        }
        return v;
    }

    static JsonNode readJson(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + text, e);
        }
    }

    private ObjectNode add(String type, String name, String key) {
        ObjectNode r = JSON.createObjectNode();
        r.put("address", type + "." + name + key).put("type", type).put("name", name);
        resources.add(r);
        return r.putObject("values");
    }

    private void exchange(String name, String key, String exchange, String type, String vhost) {
        add("rabbitmq_exchange", name, key).put("name", exchange).put("vhost", vhost).putArray("settings").addObject()
                .put("type", type).put("durable", true).put("auto_delete", false);
    }

    private void queue(String name, String key, String queue, JsonNode arguments, String vhost) {
        add("rabbitmq_queue", name, key(key)).put("name", queue).put("vhost", vhost).putArray("settings").addObject()
                .put("durable", true).put("auto_delete", false).put("arguments_json", arguments.toString());
    }

    private void binding(String name, String key, String source, String queue, String routingKey, JsonNode arguments,
            String vhost) {
        ObjectNode b = add("rabbitmq_binding", name, key(key)).put("source", source).put("vhost", vhost)
                .put("destination", queue).put("destination_type", "queue").put("routing_key", routingKey);
        if (arguments != null) {
            b.put("arguments_json", arguments.toString());
        }
    }

    private static String key(String key) {
        return "[\"" + key + "\"]";
    }

    private static boolean bool(Map<String, String> vars, String name) {
        String value = vars.get(name);
        if (!"true".equals(value) && !"false".equals(value)) {
            throw new IllegalArgumentException("variable " + name + " = " + value + ": not a bool");
        }
        return Boolean.parseBoolean(value);
    }

    private static Map<String, JsonNode> fields(JsonNode object) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        object.fields().forEachRemaining(f -> out.put(f.getKey(), f.getValue()));
        return out;
    }
}
