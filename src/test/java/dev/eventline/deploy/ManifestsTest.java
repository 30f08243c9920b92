package dev.eventline.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.config.DescriptionParser;
import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.testsupport.OfflineTools;

/**
 * The Kubernetes files are generated from the function descriptions ({@link Manifests}) and committed. This test
 * fails while a committed file differs from what the generator produces now ({@link Manifests#REGENERATE} writes
 * them), validates every document offline
 * ({@code tools/offline-check/k8s-validate.mjs}: schemas of kubernetes-models, Knative and KEDA; explicit checks of
 * RabbitmqSource and RabbitmqCluster from their Go types), and checks each file against its description
 * ({@link ManifestChecks}). No broker, no cluster.
 */
class ManifestsTest {

    private static final Path ROOT = Path.of("").toAbsolutePath();
    private static Manifests manifests;
    private static SortedMap<String, String> rendered;

    @BeforeAll
    static void render() {
        manifests = Manifests.forRepository(ROOT);
        rendered = manifests.render();
    }

    @Test
    void committedFilesAreWhatTheGeneratorProducesNow() throws IOException {
        List<String> problems = new ArrayList<>();
        for (var file : rendered.entrySet()) {
            Path path = ROOT.resolve(file.getKey());
            if (!Files.exists(path)) {
                problems.add(file.getKey() + ": missing");
            } else {
                String committed = Files.readString(path);
                if (!committed.equals(file.getValue())) {
                    problems.add(file.getKey() + ": differs, first at line " + firstDifference(committed, file.getValue()));
                }
            }
        }
        for (String stale : manifests.stale(rendered)) {
            problems.add(stale + ": generated earlier but not any more (its description is gone?)");
        }
        if (!problems.isEmpty()) {
            fail("The Kubernetes files do not match the function descriptions:\n  " + String.join("\n  ", problems)
                    + "\nRegenerate them with\n  " + Manifests.REGENERATE + "\nthen review the diff and commit it.");
        }
    }

    /** Every document as applied (knative.yaml through envsubst, docs/deploying.md "Knative") passes the offline validator. */
    @Test
    void everyCommittedDocumentPassesTheOfflineValidator(@TempDir Path dir) throws IOException {
        List<String> files = writeAsApplied(rendered, dir);
        int documents = rendered.values().stream().mapToInt(t -> ManifestChecks.documents(t).size()).sum();
        OfflineTools.Result result = OfflineTools.node("k8s-validate.mjs", files.toArray(String[]::new))
                .orFail("k8s-validate.mjs on " + files);
        assertTrue(result.stdout().contains("k8s-validate: " + documents + " documents, 0 failed"), result.stdout());
        long ok = result.stdout().lines().filter(l -> l.startsWith("ok ")).count();
        assertEquals(documents, ok, "one ok line per document:\n" + result.stdout());
    }

    /**
     * The sources carry the trigger token in their sink URI, which no Secret can fill: applied without envsubst, the
     * placeholders are refused (as Go's URL parser in Knative's webhook refuses them), and filled in they appear in
     * the sources only, while the Knative Service reads the token from its Secret.
     */
    @Test
    void knativeFilesCarryTheTokenOnlyOnceFilledInAndOnlyInTheSources(@TempDir Path dir) throws IOException {
        String file = Manifests.knativeFile("orders");
        Path raw = dir.resolve("raw.yaml");
        Files.writeString(raw, rendered.get(file));
        OfflineTools.Result unfilled = OfflineTools.node("k8s-validate.mjs", raw.toString());
        assertNotEquals(0, unfilled.exitCode(), unfilled.stdout());
        int sources = manifests.catalog().byName("orders").orElseThrow().partitions();
        assertEquals(sources, unfilled.stdout().lines().filter(l -> l.contains("sink.uri: host")).count(), unfilled.stdout());

        List<JsonNode> applied = ManifestChecks.documents(Manifests.substituted(rendered.get(file), "shop", TOKEN));
        for (JsonNode doc : applied) {
            boolean source = doc.path("kind").asText().equals("RabbitmqSource");
            assertEquals(source, doc.toString().contains(TOKEN), doc.path("kind").asText() + " carries the token");
            if (source) {
                assertEquals("http://eventline:" + TOKEN + "@eventline-orders.shop.svc.cluster.local",
                        doc.path("spec").path("sink").path("uri").asText());
            }
        }
        assertTrue(rendered.values().stream().filter(t -> !t.equals(rendered.get(file)))
                .noneMatch(t -> t.contains("${" + Manifests.TOKEN_VARIABLE + "}") && !t.contains("RabbitmqSource")),
                "only the sources' files hold the token's placeholder");
    }

    @Test
    void knativeFilesFollowEachDescription() {
        for (FunctionDescription fd : manifests.catalog().all()) {
            assertEquals(List.of(), ManifestChecks.knative(manifests, fd, docs(Manifests.knativeFile(fd.name()))));
        }
    }

    @Test
    void kedaFilesFollowEachDescription() {
        for (FunctionDescription fd : manifests.catalog().all()) {
            assertEquals(List.of(), ManifestChecks.keda(manifests, fd, docs(Manifests.kedaFile(fd.name()))));
        }
    }

    @Test
    void gateRunsNoFunctionAndReadsKeysAndTokenFromSecrets() {
        assertEquals(List.of(), ManifestChecks.gate(manifests, docs(Manifests.GATE_FILE)));
    }

    @Test
    void rabbitmqClusterEnablesWhatTheBrokerConfigurationAsks() {
        assertEquals(List.of(), ManifestChecks.rabbitmqCluster(manifests, docs(Manifests.CLUSTER_FILE)));
    }

    @Test
    void everySecretAManifestReadsIsInTheExampleWithPlaceholdersOnly() {
        Map<String, List<JsonNode>> all = new TreeMap<>();
        rendered.keySet().stream().filter(f -> !f.equals(Manifests.SECRETS_FILE)).forEach(f -> all.put(f, docs(f)));
        assertEquals(List.of(), ManifestChecks.secrets(all, docs(Manifests.SECRETS_FILE)));
    }

    /** The cross-checks are not vacuous: documents that contradict the description are reported. */
    @Test
    void crossChecksReportDocumentsThatContradictTheirDescription() {
        FunctionDescription orders = manifests.catalog().byName("orders").orElseThrow();
        List<JsonNode> knative = docs(Manifests.knativeFile("orders"));
        ObjectNode source = (ObjectNode) knative.get(1).path("spec");
        ((ObjectNode) source.path("rabbitmqResourcesConfig")).put("parallelism", 2);
        ((ObjectNode) source.path("delivery")).put("retry", orders.retry().maxAttempts());
        ((ObjectNode) source.path("delivery")).putObject("deadLetterSink").put("uri", "http://elsewhere");
        ((ObjectNode) knative.get(0).path("spec").path("template").path("spec")).put("containerConcurrency",
                orders.partitions() + 1);
        List<JsonNode> oneSourceShort = new ArrayList<>(knative);
        oneSourceShort.remove(ManifestChecks.ofKind(knative, "sources.knative.dev/v1alpha1", "RabbitmqSource")
                .get(orders.partitions() - 1));
        List<String> problems = ManifestChecks.knative(manifests, orders, oneSourceShort);
        assertContains(problems, "parallelism (1 keeps the partition's order): expected 1, found 2");
        assertContains(problems, "delivery.retry (= retry.maxAttempts - 1): expected 4, found 5");
        assertContains(problems, "has no deadLetterSink");
        assertContains(problems, "containerConcurrency 9 within 1..partitions (8)");
        assertContains(problems, "RabbitmqSources, one per partition queue in order");

        List<JsonNode> keda = docs(Manifests.kedaFile("orders"));
        ObjectNode scaled = (ObjectNode) keda.get(1).path("spec");
        scaled.put("maxReplicaCount", orders.partitions() + 1);
        ((ObjectNode) scaled.path("triggers").get(0).path("metadata")).put("queueName", "^orders-.*");
        ((ObjectNode) keda.get(0).path("spec")).put("replicas", 3);
        ((ObjectNode) keda.get(0).path("spec").path("template").path("spec")).put("terminationGracePeriodSeconds", 5);
        problems = ManifestChecks.keda(manifests, orders, keda);
        assertContains(problems, "maxReplicaCount (= partitions: an instance beyond them owns nothing): expected 8, found 9");
        assertContains(problems, "must not match orders-0.owner");
        assertContains(problems, "no spec.replicas");
        assertContains(problems, "must cover the handler timeout 10000 ms");

        // the sink without the token, the token written into the manifest, a policy that admits everyone
        ((ObjectNode) source.path("sink")).putObject("ref").put("kind", "Service").put("name", "eventline-orders");
        ArrayNode serviceEnv = (ArrayNode) knative.get(0).path("spec").path("template").path("spec").path("containers")
                .get(0).path("env");
        ((ObjectNode) serviceEnv.get(1)).remove("valueFrom");
        ((ObjectNode) serviceEnv.get(1)).put("value", "in-the-manifest-itself");
        JsonNode policy = ManifestChecks.ofKind(knative, "networking.k8s.io/v1", "NetworkPolicy").get(0);
        ((ArrayNode) policy.path("spec").path("ingress")).addObject().putArray("ports").addObject().put("port", 8080);
        ((ArrayNode) policy.path("spec").path("ingress")).addObject().putArray("from").addObject()
                .putObject("podSelector");
        problems = ManifestChecks.knative(manifests, orders, knative);
        assertContains(problems, "no sink.ref");
        assertContains(problems, "EVENTLINE_TRIGGER_TOKEN from a Secret: expected [eventline-trigger-orders, token]");
        assertContains(problems, "every ingress rule names whom it admits");
        assertContains(problems, "ingress from whole namespaces only");
        ObjectNode kedaPolicy = (ObjectNode) ManifestChecks.ofKind(docs(Manifests.kedaFile("orders")),
                "networking.k8s.io/v1", "NetworkPolicy").get(0);
        List<JsonNode> kedaDocs = new ArrayList<>(docs(Manifests.kedaFile("orders")));
        kedaDocs.removeIf(d -> d.path("kind").asText().equals("NetworkPolicy"));
        ((ObjectNode) kedaPolicy.path("spec").path("ingress").get(0)).remove("ports");
        kedaDocs.add(kedaPolicy);
        assertContains(ManifestChecks.keda(manifests, orders, kedaDocs), "ingress from namespace 'monitoring' on ports []");

        List<JsonNode> gate = docs(Manifests.GATE_FILE);
        ArrayNode env = (ArrayNode) gate.get(0).path("spec").path("template").path("spec").path("containers").get(0)
                .path("env");
        ((ObjectNode) env.get(0)).put("value", "all");
        env.addObject().put("name", "EVENTLINE_ADMIN_TOKEN").put("value", "in-the-manifest-itself");
        problems = ManifestChecks.gate(manifests, gate);
        assertContains(problems, "EVENTLINE_FUNCTIONS_ENABLED (the gate runs no function): expected none, found all");
        assertContains(problems, "env EVENTLINE_ADMIN_TOKEN is set once");
    }

    /** The validator fails, per document, on what a server would refuse; a valid document beside them passes. */
    @Test
    void validatorRejectsBrokenDocuments(@TempDir Path dir) throws IOException {
        Path broken = dir.resolve("broken.yaml");
        Files.writeString(broken, String.join("\n",
                "apiVersion: v1", "kind: ConfigMap", "metadata: {name: fine}", "data: {a: b}",
                "---",
                "apiVersion: apps/v1", "kind: Deployment", "metadata: {name: no-selector}",
                "spec: {replicas: two, template: {spec: {containers: [{name: x, image: y}]}}}",
                "---",
                "apiVersion: sources.knative.dev/v1alpha1", "kind: RabbitmqSource", "metadata: {name: no-queue}",
                "spec:",
                "  rabbitmqClusterReference: {connectionSecret: {name: s}}",
                "  rabbitmqResourcesConfig: {predeclared: true, parallelism: 0}",
                "  delivery: {retry: 2, backoffDelay: 100ms, deadLetterSink: {uri: /dead-letters}}",
                "  sink: {ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: f}}",
                "---",
                "apiVersion: rabbitmq.com/v1beta1", "kind: RabbitmqCluster", "metadata: {name: r}",
                "spec: {rabbitmq: {additionalPlugins: [rabbitmq-consistent-hash]}}",
                "---",
                "apiVersion: example.com/v1", "kind: Unheard", "metadata: {name: u}", ""));
        OfflineTools.Result result = OfflineTools.node("k8s-validate.mjs", broken.toString());
        String out = result.stdout();
        assertNotEquals(0, result.exitCode(), out);
        assertTrue(out.contains("k8s-validate: 5 documents, 4 failed"), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("ok ") && l.contains("ConfigMap fine")), out);
        for (String expected : List.of("must have required property selector", "/spec/replicas must be integer",
                "spec.rabbitmqResourcesConfig.queueName: required",
                "spec.rabbitmqResourcesConfig.parallelism: 0 is out of bounds [1, 1000]",
                "spec.delivery.deadLetterSink: RabbitmqSource has no such field",
                "spec.delivery.backoffDelay \"100ms\": not an ISO-8601 duration",
                "additionalPlugins[0] \"rabbitmq-consistent-hash\": must match",
                "unknown apiVersion/kind \"example.com/v1 Unheard\"")) {
            assertTrue(out.contains(expected), "expected «" + expected + "» in\n" + out);
        }
    }

    /**
     * Generation follows any description and the options: a prefix with regex characters, another vhost, odd
     * partition counts, a function whose name extends another's, the longest name with the most partitions (every
     * Kubernetes name stays within its limit); the result passes the same checks and the validator.
     */
    @Test
    void generatesFromAnyDescriptionAndOptions(@TempDir Path dir) throws IOException {
        DescriptionParser parser = new DescriptionParser();
        FunctionDescription alpha = parser.parse("alpha.yaml", "name: alpha\neventTypes: [a.one, a.two]\npartitions: 3\n"
                + "concurrency: 2\ntimeoutMs: 1500\nretry: {maxAttempts: 1, initialDelayMs: 250}\n"
                + "limits: {depth: {soft: 1000}}\n", "alpha");
        FunctionDescription alphaBeta = parser.parse("alpha-b.yaml", "name: alpha-b\neventTypes: [b.one]\npartitions: 130\n"
                + "timeoutMs: 3600000\n", "alpha-b");
        String longest = "l".repeat(DescriptionParser.MAX_NAME - 2) + "-x"; // the longest name, the most partitions
        FunctionDescription edge = parser.parse("edge.yaml", "name: " + longest + "\neventTypes: [c.one]\npartitions: "
                + DescriptionParser.MAX_PARTITIONS + "\n", longest);
        FunctionCatalog catalog = new FunctionCatalog(List.of(alpha, alphaBeta, edge));
        Manifests custom = new Manifests(ROOT, catalog, new Manifests.Options("registry.example/eventline:test",
                "t.1-", "tenant", "broker", Map.of("web", List.of("a.one"))));
        assertEquals(334, Manifests.kedaQueueLengthTarget(alpha));
        assertEquals(7, Manifests.requestTimeoutSeconds(alpha));
        assertEquals(45, Manifests.terminationGraceSeconds(alpha));
        assertEquals(3615, Manifests.terminationGraceSeconds(alphaBeta));
        assertEquals("PT0.25S", Manifests.backoffDelay(alpha));
        assertEquals(0, Manifests.deliveryRetries(alpha));
        assertEquals("^t\\.1-alpha-[0-9]+$", custom.partitionRegex("alpha"));

        SortedMap<String, String> files = custom.render();
        for (FunctionDescription fd : catalog.all()) {
            assertEquals(List.of(), ManifestChecks.knative(custom, fd,
                    ManifestChecks.documents(files.get(Manifests.knativeFile(fd.name())))));
            assertEquals(List.of(), ManifestChecks.keda(custom, fd,
                    ManifestChecks.documents(files.get(Manifests.kedaFile(fd.name())))));
        }
        assertEquals(List.of(), ManifestChecks.gate(custom, ManifestChecks.documents(files.get(Manifests.GATE_FILE))));
        assertTrue(files.get(Manifests.knativeFile("alpha-b")).contains("max-revision-timeout-seconds"));
        assertTrue(files.get(Manifests.knativeFile("alpha")).contains("queueName: t.1-alpha-2"));
        List<String> paths = writeAsApplied(files, dir);
        OfflineTools.node("k8s-validate.mjs", paths.toArray(String[]::new)).orFail("k8s-validate.mjs on custom manifests");
    }

    /**
     * One deployment's settings, given once to the command, reach every manifest: each image (no manifest keeps
     * the published one), the topology prefix of every process, the vhost; the set passes the checks and the
     * validator, and the committed files are untouched. Bad settings are refused with what is expected.
     */
    @Test
    void theCommandWritesADeploymentsSetWithItsSettingsInEveryManifest(@TempDir Path out) throws IOException {
        Path gone = out.resolve("functions/gone/deploy/keda.yaml"); // written for a function since removed
        Files.createDirectories(gone.getParent());
        Files.writeString(gone, Manifests.GENERATED_MARK + " from functions/gone/function.yaml: do not edit.\n");
        ManifestsCommand.main(new String[] {"--out", out.toString(), "--image", "registry.example.com:5000/team/eventline:1.4.2",
                "--prefix", "staging.", "--vhost", "shop"});
        assertTrue(!Files.exists(gone), "a file of a function that is gone is deleted");
        Manifests expected = new Manifests(ROOT, manifests.catalog(), new Manifests.Options(
                "registry.example.com:5000/team/eventline:1.4.2", "staging.", "shop", "eventline-rabbitmq",
                Manifests.defaults(manifests.catalog()).producers()));
        SortedMap<String, String> files = new TreeMap<>();
        for (String file : rendered.keySet()) {
            files.put(file, Files.readString(out.resolve(file)));
            assertEquals(expected.render().get(file), files.get(file), file);
            assertTrue(!files.get(file).contains(Manifests.DEFAULT_IMAGE.substring(0, Manifests.DEFAULT_IMAGE.indexOf(':'))),
                    file + " still names the published image");
        }
        for (FunctionDescription fd : manifests.catalog().all()) {
            String keda = files.get(Manifests.kedaFile(fd.name()));
            assertTrue(keda.contains("image: registry.example.com:5000/team/eventline-" + fd.name() + ":1.4.2"), keda);
            assertTrue(keda.contains("value: staging."), "EVENTLINE_TOPOLOGY_PREFIX: " + keda);
            assertEquals(List.of(), ManifestChecks.keda(expected, fd, ManifestChecks.documents(keda)));
        }
        assertTrue(files.get(Manifests.GATE_FILE).contains("image: registry.example.com:5000/team/eventline-gate:1.4.2"));
        assertTrue(files.get(Manifests.SECRETS_FILE).contains("/shop"), "the vhost in the URLs");
        assertTrue(files.get(Manifests.kedaFile("orders")).contains("vhostName: shop"), "and in KEDA's trigger");
        List<String> paths = writeAsApplied(files, out.resolve("applied"));
        OfflineTools.node("k8s-validate.mjs", paths.toArray(String[]::new)).orFail("k8s-validate.mjs on a deployment's set");
        Map<String, String[]> refused = Map.of(
                "may hold only", new String[] {"--out", out.toString(), "--prefix", "a*b"},
                "name:tag", new String[] {"--out", out.toString(), "--image", "Registry/Eventline"},
                "not a digest", new String[] {"--out", out.toString(), "--image", "reg:5000:1.0"},
                "must not be the repository", new String[] {"--out", ROOT.toString()},
                "need --out", new String[] {"--image", "r/e:1"},
                "usage", new String[] {"--colour", "red"});
        refused.forEach((message, bad) -> {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> ManifestsCommand.main(bad), String.join(" ", bad));
            assertTrue(e.getMessage().contains(message), e.getMessage());
        });
    }

    private static final String TOKEN = "0123456789abcdef0123456789abcdef";

    /** Writes the files under dir as they are applied: the namespace and a token filled in. @return their paths */
    private static List<String> writeAsApplied(SortedMap<String, String> files, Path dir) throws IOException {
        List<String> paths = new ArrayList<>();
        for (var file : files.entrySet()) {
            Path path = dir.resolve(file.getKey());
            Files.createDirectories(path.getParent());
            Files.writeString(path, Manifests.substituted(file.getValue(), "eventline", TOKEN));
            paths.add(path.toString());
        }
        return paths;
    }

    /**
     * The PodMonitor selects every pod template of the gate and the functions (Deployments and Knative Services)
     * and no other, on a port each of them has, at the metrics path; the PrometheusRule carries the alert file's
     * rules unchanged.
     */
    @Test
    void theMonitoringFileScrapesTheGateAndEveryFunctionAndCarriesTheAlertRules() throws IOException {
        List<JsonNode> docs = docs(Manifests.MONITORING_FILE);
        JsonNode monitor = docs.stream().filter(d -> d.path("kind").asText().equals("PodMonitor")).findFirst().orElseThrow();
        JsonNode rule = docs.stream().filter(d -> d.path("kind").asText().equals("PrometheusRule")).findFirst().orElseThrow();
        java.util.Set<String> ports = new java.util.TreeSet<>();
        monitor.at("/spec/podMetricsEndpoints").forEach(e -> {
            ports.add(e.path("port").asText());
            assertEquals(Manifests.METRICS_PATH, e.path("path").asText());
        });
        JsonNode selector = monitor.at("/spec/selector");
        int selected = 0;
        for (var file : rendered.entrySet()) {
            for (JsonNode doc : ManifestChecks.documents(file.getValue())) {
                JsonNode template = doc.at("/spec/template");
                if (template.isMissingNode() || !template.has("metadata")) {
                    continue;
                }
                String component = template.at("/metadata/labels").path("app.kubernetes.io/component").asText();
                boolean ours = component.equals("gate") || component.equals("function");
                assertEquals(ours, selects(selector, template.at("/metadata/labels")), file.getKey() + " " + doc.path("kind"));
                if (ours) {
                    selected++;
                    List<String> named = new ArrayList<>();
                    // Knative names the user container's port user-port on the pods it creates, whatever the template says
                    boolean knative = doc.path("apiVersion").asText().startsWith("serving.knative.dev/");
                    template.at("/spec/containers").forEach(c -> c.path("ports").forEach(
                            p -> named.add(knative ? "user-port" : p.path("name").asText())));
                    assertTrue(named.stream().anyMatch(ports::contains), file.getKey() + ": no port of " + ports + " in " + named);
                }
            }
        }
        assertEquals(1 + 2 * manifests.catalog().all().size(), selected, "the gate, and each function on Knative and KEDA");
        JsonNode alerts = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
                .readTree(Path.of(Manifests.ALERTS_FILE).toFile());
        assertEquals(alerts.get("groups"), rule.at("/spec/groups"));
    }

    /** A label selector (matchLabels, matchExpressions with In) applied to a pod's labels. */
    private static boolean selects(JsonNode selector, JsonNode labels) {
        var match = selector.path("matchLabels").fields();
        while (match.hasNext()) {
            var e = match.next();
            if (!e.getValue().asText().equals(labels.path(e.getKey()).asText(null))) {
                return false;
            }
        }
        for (JsonNode expression : selector.path("matchExpressions")) {
            assertEquals("In", expression.path("operator").asText());
            List<String> values = new ArrayList<>();
            expression.path("values").forEach(v -> values.add(v.asText()));
            if (!values.contains(labels.path(expression.path("key").asText()).asText(null))) {
                return false;
            }
        }
        return true;
    }

    /** A function named like the broker cluster would give its Knative Service the broker Service's name. */
    @Test
    void refusesAFunctionNamedLikeTheBrokerCluster() {
        FunctionDescription rabbitmq = new DescriptionParser().parse("rabbitmq.yaml", "name: rabbitmq\neventTypes: [r.x]\n",
                "rabbitmq");
        FunctionCatalog catalog = new FunctionCatalog(List.of(rabbitmq));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new Manifests(ROOT, catalog, Manifests.defaults(catalog)));
        assertTrue(e.getMessage().contains("like the RabbitmqCluster"), e.getMessage());
    }

    private static List<JsonNode> docs(String file) {
        return ManifestChecks.documents(rendered.get(file));
    }

    private static void assertContains(List<String> problems, String fragment) {
        assertTrue(problems.stream().anyMatch(p -> p.contains(fragment)),
                "expected a problem containing «" + fragment + "» in " + problems);
    }

    private static int firstDifference(String a, String b) {
        String[] x = a.split("\n", -1);
        String[] y = b.split("\n", -1);
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            if (!x[i].equals(y[i])) {
                return i + 1;
            }
        }
        return Math.min(x.length, y.length) + 1;
    }
}
