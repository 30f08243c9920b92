package dev.eventline.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.topology.Names;
import dev.eventline.topology.TopologySpec;

/**
 * {@code terraform/topology.json}: what the Terraform module iterates over, written from the runtime's own
 * {@link TopologySpec} of every function, so that the module computes nothing: each resource is a
 * {@code for_each} over one of its maps, and the module only puts its {@code prefix} before the names and picks
 * the permission pieces its variables grant. Names are relative to that prefix.
 *
 * <p>Written by {@link ManifestsCommand} ({@value Manifests#REGENERATE}); {@code TerraformTopologyTest} fails while
 * the committed file differs. The users' permission regexes are built here too, from what the runtime does with
 * each name (terraform/users.tf lists it).
 */
final class TopologyFile {

    static final String PATH = "terraform/topology.json";
    /** Raised when the file's layout changes; the module refuses a file of another format. */
    static final int FORMAT = 1;
    /** The cyrilgdn/rabbitmq provider decodes arguments_json into float64: larger whole numbers would change. */
    static final long MAX_EXACT = 1L << 53;

    /**
     * Grants: the names every user of a role holds, and those only the module's variable of that name grants, in
     * the order the module joins them (terraform/users.tf iterates this list; a map's keys it would sort).
     */
    static final String ALWAYS = "always";
    static final String ADMIN = "admin_enabled";
    static final String VERIFY = "runtime_verifies_topology";
    static final String REPARTITION = "gate_may_repartition";
    static final List<String> GRANTS = List.of(ALWAYS, ADMIN, VERIFY, REPARTITION);

    /** Two-space indents and '\n' on every system: the drift check compares the text. */
    private static final ObjectWriter WRITER = new ObjectMapper().writer(new DefaultPrettyPrinter()
            .withObjectIndenter(new DefaultIndenter("  ", "\n")).withArrayIndenter(new DefaultIndenter("  ", "\n")));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Names RELATIVE = new Names("");

    private TopologyFile() {
    }

    /** The file's text for the descriptions {@code <dir>/<name>/function.yaml}, with their {@link #sha256}. */
    static String render(Path functionsDir) {
        return render(FunctionCatalog.fromDirectory(functionsDir).all(), sha256(functionsDir));
    }

    /** The file's text for these descriptions (validated by the runtime's parser already), not tied to files. */
    static String render(Collection<FunctionDescription> all) {
        return render(all, null);
    }

    /**
     * What the module compares with the descriptions beside it (terraform/main.tf {@code descriptions_sha256}), so
     * that a description changed without regenerating this file stops the plan: SHA-256 of the concatenated
     * lower-case hex SHA-256 of each {@code <name>/function.yaml}'s bytes, in the order of those paths: Terraform's
     * {@code sha256(join("", [for f in sort(fileset(...)) : filesha256(...)]))} over the same files.
     */
    static String sha256(Path functionsDir) {
        try (Stream<Path> folders = Files.list(functionsDir)) {
            StringBuilder hashes = new StringBuilder();
            for (Path file : folders.map(f -> f.resolve("function.yaml")).filter(Files::isRegularFile)
                    .sorted(Comparator.comparing(f -> f.getParent().getFileName() + "/function.yaml")).toList()) {
                hashes.append(hex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file))));
            }
            return hex(MessageDigest.getInstance("SHA-256").digest(hashes.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    private static String render(Collection<FunctionDescription> all, String descriptionsSha256) {
        if (all.isEmpty()) {
            throw new IllegalArgumentException("no function descriptions (<name>/function.yaml): nothing for Terraform to create");
        }
        Map<String, FunctionDescription> functions = new TreeMap<>();
        all.forEach(fn -> functions.put(fn.name(), fn));
        ObjectNode root = JSON.createObjectNode();
        root.put("about", "GENERATED from functions/*/function.yaml by " + Manifests.REGENERATE
                + " (src/test/java/dev/eventline/deploy/TopologyFile.java): do not edit. The runtime's topology"
                + " (TopologySpec), names relative to the module's prefix; the module adds the prefix, the partitions'"
                + " x-dead-letter-exchange (a name) and the grants its variables choose.");
        root.put("format", FORMAT);
        root.put("descriptions_sha256", descriptionsSha256);
        root.put("status_exchange", RELATIVE.statusExchange());
        ObjectNode index = root.putObject("functions");
        ObjectNode exchanges = root.putObject("exchanges");
        ObjectNode deadLetterExchanges = root.putObject("dead_letter_exchanges");
        ObjectNode retryExchanges = root.putObject("retry_exchanges");
        ObjectNode partitions = root.putObject("partitions");
        ObjectNode deadLetterQueues = root.putObject("dead_letter_queues");
        ObjectNode delayQueues = root.putObject("delay_queues");
        for (FunctionDescription fn : functions.values()) {
            String f = fn.name();
            TopologySpec spec = TopologySpec.of(fn, RELATIVE);
            Map<String, TopologySpec.Queue> queues = new TreeMap<>();
            spec.queues().forEach(q -> queues.put(q.name(), q));
            ObjectNode entry = index.putObject(f);
            ArrayNode partitionKeys = entry.putArray("partitions");
            ArrayNode delayKeys = entry.putArray("delay_queues");
            for (TopologySpec.Exchange e : spec.exchanges()) {
                ObjectNode into = e.name().equals(RELATIVE.exchange(f)) ? exchanges
                        : e.name().equals(RELATIVE.deadLetterExchange(f)) ? deadLetterExchanges : retryExchanges;
                into.putObject(f).put("name", e.name()).put("type", e.type());
            }
            for (TopologySpec.Binding b : spec.bindings()) {
                TopologySpec.Queue q = queues.get(b.queue());
                if (b.exchange().equals(RELATIVE.exchange(f))) {
                    partitionKeys.add(q.name());
                    Map<String, Object> arguments = new TreeMap<>(q.arguments());
                    if (!RELATIVE.deadLetterExchange(f).equals(arguments.remove("x-dead-letter-exchange"))) {
                        throw new IllegalStateException(q.name() + ": a partition dead-letters to " + RELATIVE.deadLetterExchange(f));
                    }
                    partitions.set(q.name(), queue(f, q.name(), arguments).put("routing_key", b.routingKey()));
                } else if (b.exchange().equals(RELATIVE.deadLetterExchange(f))) {
                    deadLetterQueues.set(f, queue(f, q.name(), q.arguments()));
                } else {
                    delayKeys.add(q.name());
                    ObjectNode delay = queue(f, q.name(), q.arguments());
                    delay.set("binding_arguments", JSON.valueToTree(new TreeMap<>(b.arguments())));
                    delayQueues.set(q.name(), delay);
                }
            }
        }
        root.put("quorum_queues", anyOf(functions.keySet()) + "(?:-\\d+|\\.retry-\\d+)");
        root.set("permissions", permissions(functions));
        try {
            return WRITER.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode queue(String function, String name, Map<String, Object> arguments) {
        for (var a : arguments.entrySet()) {
            if (a.getValue() instanceof Number n && Math.abs(n.longValue()) > MAX_EXACT) {
                throw new IllegalArgumentException("function " + function + ": queue " + name + " would get "
                        + a.getKey() + " = " + n + ", more than 2^53, which the Terraform provider cannot pass exactly "
                        + "(it reads queue arguments as float64): lower limits.depth.ceiling or limits.deadLetterMax");
            }
        }
        ObjectNode q = JsonNodeFactory.instance.objectNode().put("function", function).put("name", name);
        q.set("arguments", JSON.valueToTree(new TreeMap<>(arguments)));
        return q;
    }

    /**
     * Per role ({@code gate}, {@code fn-<function>}) and operation (configure, write, read): the names it may
     * touch, as regexes relative to the prefix, by grant. RabbitMQ checks the name an operation touches against
     * the user's regex for it (terraform/users.tf); the module joins the granted pieces into one anchored regex.
     */
    private static ObjectNode permissions(Map<String, FunctionDescription> functions) {
        String any = anyOf(functions.keySet());
        String status = quote(RELATIVE.statusExchange());
        List<String> everyTopology = new ArrayList<>();
        functions.values().forEach(fn -> everyTopology.add(topology(fn)));
        ObjectNode out = JSON.createObjectNode();
        ObjectNode gate = out.putObject("gate");
        grants(gate.putObject("configure"), ADMIN, List.of(any + "\\.paused"), VERIFY, everyTopology,
                REPARTITION, everyTopology);
        grants(gate.putObject("write"), ALWAYS, List.of(any), REPARTITION, everyTopology);
        List<String> parkedLists = functions.values().stream().filter(FunctionDescription::parked)
                .map(fn -> quote(fn.name()) + "-\\d+\\.held-view").toList();
        List<String> gateReads = new ArrayList<>(List.of(any + "\\.dlq"));
        gateReads.addAll(parkedLists); // admin: the held keys
        grants(gate.putObject("read"), ALWAYS, List.of(status), ADMIN, gateReads, REPARTITION, everyTopology);
        for (FunctionDescription fn : functions.values()) {
            String f = quote(fn.name());
            ObjectNode role = out.putObject("fn-" + fn.name());
            // parked mode: the parking exchange, each partition's list of held keys and each held key's queue,
            // created, bound, published to, read and deleted by the partition's owner
            List<String> parking = fn.parked()
                    ? List.of(f + "\\.parking", f + "-\\d+\\.held(?:-view)?", f + "-\\d+\\.parked\\.[0-9a-f]{32}")
                    : List.of();
            List<String> configure = new ArrayList<>(List.of(f + "-\\d+\\.owner"));
            configure.addAll(parking);
            grants(role.putObject("configure"), ALWAYS, configure, VERIFY, everyTopology);
            List<String> write = new ArrayList<>(relaxed(fn) ? List.of(status, f + "\\.dlx", f + "\\.retry")
                    : List.of(status, f + "\\.dlx"));
            write.addAll(parking);
            grants(role.putObject("write"), ALWAYS, write);
            List<String> read = new ArrayList<>(List.of(status, f + "-\\d+"));
            read.addAll(parking);
            grants(role.putObject("read"), ALWAYS, read);
        }
        return out;
    }

    /**
     * Pairs of grant and names, e.g. {@code grants(op, ALWAYS, List.of(...), ADMIN, List.of(...))}; every grant
     * of {@link #GRANTS} is written, empty where it adds nothing.
     */
    private static void grants(ObjectNode op, Object... pairs) {
        GRANTS.forEach(op::putArray);
        for (int i = 0; i < pairs.length; i += 2) {
            ArrayNode names = (ArrayNode) op.get((String) pairs[i]);
            ((List<?>) pairs[i + 1]).forEach(n -> names.add((String) n));
        }
    }

    /** Every exchange and queue of a function's topology, as one regex relative to the prefix. */
    private static String topology(FunctionDescription fn) {
        return quote(fn.name()) + (relaxed(fn) ? "(?:-\\d+|\\.dlx|\\.dlq|\\.retry|\\.retry-\\d+)?" : "(?:-\\d+|\\.dlx|\\.dlq)?");
    }

    private static boolean relaxed(FunctionDescription fn) {
        return fn.retry().mode() == FunctionDescription.RetryMode.RELAXED;
    }

    private static String anyOf(Collection<String> functions) {
        return "(?:" + String.join("|", functions.stream().map(TopologyFile::quote).toList()) + ")";
    }

    /**
     * A name as a literal in an RE2 and PCRE regex (RabbitMQ's re module): every metacharacter escaped. Function
     * names follow the runtime's rule ([a-z0-9] words joined by '-'), so this changes only the status exchange's
     * '.'; every regex is anchored at both ends, so one function's cannot match another's names (pay, pay-out).
     */
    static String quote(String name) {
        StringBuilder out = new StringBuilder();
        for (char c : name.toCharArray()) {
            if ("\\.+*?()|[]{}^$".indexOf(c) >= 0) {
                out.append('\\');
            }
            out.append(c);
        }
        return out.toString();
    }
}
