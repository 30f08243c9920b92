package dev.eventline.deploy;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;

import dev.eventline.config.FunctionDescription;
import dev.eventline.topology.Names;
import dev.eventline.topology.TopologySpec;

/**
 * A broker topology in a form both renderings reduce to, so they can be compared exactly: the runtime's
 * ({@link TopologySpec} of every function, plus the status exchange) and Terraform's (the planned
 * {@code rabbitmq_exchange}, {@code rabbitmq_queue} and {@code rabbitmq_binding} instances). Argument values
 * are kept with their type ({@code number 12500}, {@code bool true}, {@code string quorum}): a number must be
 * a number on both sides and equal as a number, whatever its Java or JSON representation.
 */
record TerraformTopology(Map<String, Exchange> exchanges, Map<String, Queue> queues, Set<Binding> bindings) {

    record Exchange(String type, boolean durable, boolean autoDelete) {
    }

    record Queue(boolean durable, boolean autoDelete, Map<String, String> arguments) {
    }

    record Binding(String source, String destination, String destinationType, String routingKey,
            Map<String, String> arguments) implements Comparable<Binding> {

        @Override
        public int compareTo(Binding o) {
            return toString().compareTo(o.toString());
        }
    }

    /** What the runtime declares (TopologyManager: durable, not auto-deleted) for these functions. */
    static TerraformTopology ofRuntime(Collection<FunctionDescription> functions, Names names) {
        Map<String, Exchange> exchanges = new TreeMap<>();
        Map<String, Queue> queues = new TreeMap<>();
        Set<Binding> bindings = new TreeSet<>();
        // broker/StatusExchange.declare: durable fanout
        exchanges.put(names.statusExchange(), new Exchange("fanout", true, false));
        for (FunctionDescription fn : functions) {
            TopologySpec spec = TopologySpec.of(fn, names);
            spec.exchanges().forEach(e -> put(exchanges, e.name(), new Exchange(e.type(), true, false)));
            spec.queues().forEach(q -> put(queues, q.name(), new Queue(true, false, typedJava(q.arguments()))));
            spec.bindings().forEach(b -> bindings.add(
                    new Binding(b.exchange(), b.queue(), "queue", b.routingKey(), typedJava(b.arguments()))));
        }
        return new TerraformTopology(exchanges, queues, bindings);
    }

    /** What the plan would create: its exchanges, queues and bindings, arguments_json decoded. */
    static TerraformTopology ofPlan(TerraformPlan plan) {
        Map<String, Exchange> exchanges = new TreeMap<>();
        Map<String, Queue> queues = new TreeMap<>();
        Set<Binding> bindings = new TreeSet<>();
        for (JsonNode r : plan.resources("rabbitmq_exchange")) {
            JsonNode v = r.get("values");
            JsonNode s = single(r, "settings");
            if (s.has("arguments") && !s.get("arguments").isNull() && !s.get("arguments").isEmpty()) {
                throw new AssertionError(r.get("address") + ": the runtime declares exchanges without arguments");
            }
            put(exchanges, v.get("name").asText(), new Exchange(s.get("type").asText(), bool(s, "durable"),
                    bool(s, "auto_delete")));
        }
        for (JsonNode r : plan.resources("rabbitmq_queue")) {
            JsonNode s = single(r, "settings");
            put(queues, r.get("values").get("name").asText(),
                    new Queue(bool(s, "durable"), bool(s, "auto_delete"), arguments(r, s)));
        }
        for (JsonNode r : plan.resources("rabbitmq_binding")) {
            JsonNode v = r.get("values");
            Binding b = new Binding(v.get("source").asText(), v.get("destination").asText(),
                    v.get("destination_type").asText(), v.path("routing_key").asText(""), arguments(r, v));
            if (!bindings.add(b)) {
                throw new AssertionError("binding planned twice: " + b);
            }
        }
        return new TerraformTopology(exchanges, queues, bindings);
    }

    /** Every difference, one per line, or an empty list. */
    List<String> differences(TerraformTopology other, String mine, String theirs) {
        List<String> out = new ArrayList<>();
        diff(out, "exchange", exchanges, other.exchanges, mine, theirs);
        diff(out, "queue", queues, other.queues, mine, theirs);
        Set<Binding> only = new TreeSet<>(bindings);
        only.removeAll(other.bindings);
        only.forEach(b -> out.add("binding only in " + mine + ": " + b));
        Set<Binding> missing = new TreeSet<>(other.bindings);
        missing.removeAll(bindings);
        missing.forEach(b -> out.add("binding only in " + theirs + ": " + b));
        return out;
    }

    private static <V> void diff(List<String> out, String what, Map<String, V> a, Map<String, V> b, String mine,
            String theirs) {
        Set<String> names = new TreeSet<>(a.keySet());
        names.addAll(b.keySet());
        for (String name : names) {
            V x = a.get(name);
            V y = b.get(name);
            if (y == null) {
                out.add(what + " " + name + " only in " + mine + ": " + x);
            } else if (x == null) {
                out.add(what + " " + name + " only in " + theirs + ": " + y);
            } else if (!x.equals(y)) {
                out.add(what + " " + name + " differs:\n    " + mine + ": " + x + "\n    " + theirs + ": " + y);
            }
        }
    }

    private static <V> void put(Map<String, V> map, String name, V value) {
        if (map.put(name, value) != null) {
            throw new AssertionError(name + " is declared twice");
        }
    }

    private static JsonNode single(JsonNode resource, String block) {
        JsonNode list = resource.get("values").get(block);
        if (list == null || !list.isArray() || list.size() != 1) {
            throw new AssertionError(resource.get("address") + ": expected one " + block + " block, got " + list);
        }
        return list.get(0);
    }

    /** The provider's default for an omitted bool is false. */
    private static boolean bool(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw new AssertionError(field + " is not a bool: " + v);
        }
        return v.booleanValue();
    }

    /** arguments_json decoded, or arguments (a map of strings, as the provider sends it), typed. */
    private static Map<String, String> arguments(JsonNode resource, JsonNode body) {
        JsonNode json = body.get("arguments_json");
        JsonNode map = body.get("arguments");
        boolean hasJson = json != null && !json.isNull();
        boolean hasMap = map != null && !map.isNull();
        if (hasJson && hasMap) {
            throw new AssertionError(resource.get("address") + ": both arguments and arguments_json");
        }
        Map<String, String> out = new TreeMap<>();
        if (hasJson) {
            JsonNode decoded = TerraformPlan.readJson(json.asText());
            if (!decoded.isObject()) {
                throw new AssertionError(resource.get("address") + ": arguments_json is not an object: " + json);
            }
            decoded.fields().forEachRemaining(f -> out.put(f.getKey(), typed(f.getValue())));
        } else if (hasMap) {
            map.fields().forEachRemaining(f -> out.put(f.getKey(), "string " + f.getValue().asText()));
        }
        return out;
    }

    static Map<String, String> typedJava(Map<String, Object> arguments) {
        Map<String, String> out = new TreeMap<>();
        arguments.forEach((k, v) -> out.put(k, typed(v)));
        return out;
    }

    static String typed(Object v) {
        if (v instanceof Integer || v instanceof Long || v instanceof BigInteger) {
            return "number " + new BigInteger(v.toString());
        }
        if (v instanceof Boolean b) {
            return "bool " + b;
        }
        if (v instanceof String s) {
            return "string " + s;
        }
        throw new AssertionError("argument value of an unexpected type: " + v.getClass() + " " + v);
    }

    static String typed(JsonNode v) {
        if (v.isIntegralNumber()) {
            return "number " + v.bigIntegerValue();
        }
        if (v.isNumber()) {
            BigDecimal d = v.decimalValue().stripTrailingZeros();
            return "number " + (d.scale() <= 0 ? d.toBigIntegerExact().toString() : d.toPlainString());
        }
        if (v.isBoolean()) {
            return "bool " + v.booleanValue();
        }
        if (v.isTextual()) {
            return "string " + v.textValue();
        }
        return "json " + v;
    }

    /** Queue names of the topology. */
    Set<String> queueNames() {
        return new HashSet<>(queues.keySet());
    }
}
