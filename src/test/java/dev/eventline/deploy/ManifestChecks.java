package dev.eventline.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.IntStream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import dev.eventline.config.FunctionDescription;
import dev.eventline.testsupport.DockerBroker;
import dev.eventline.topology.Names;

/**
 * Checks of the generated Kubernetes documents against what they are generated from: each function's description,
 * the broker names ({@link Names}), {@code infra/rabbitmq/}, and each other (every Secret a manifest reads is in the
 * example). Each method returns the problems it found (empty: none), so a test can also show that a contradicting
 * document is caught. The schema side (field names and types) is {@code tools/offline-check/k8s-validate.mjs}.
 */
final class ManifestChecks {

    private static final YAMLMapper YAML = new YAMLMapper();

    private ManifestChecks() {
    }

    /** @return the YAML documents of a file's text, in order */
    static List<JsonNode> documents(String text) {
        try (MappingIterator<JsonNode> docs = YAML.readerFor(JsonNode.class).readValues(text)) {
            List<JsonNode> all = new ArrayList<>();
            while (docs.hasNextValue()) {
                JsonNode doc = docs.nextValue();
                if (doc != null && !doc.isMissingNode() && !doc.isNull()) {
                    all.add(doc);
                }
            }
            return all;
        } catch (IOException e) {
            throw new UncheckedIOException("not YAML", e);
        }
    }

    // ---- Knative ----

    static List<String> knative(Manifests m, FunctionDescription fd, List<JsonNode> docs) {
        Problems p = new Problems("knative.yaml of " + fd.name());
        String fn = fd.name();
        p.kinds(docs, Set.of("serving.knative.dev/v1 Service", "sources.knative.dev/v1alpha1 RabbitmqSource",
                "networking.k8s.io/v1 NetworkPolicy"));
        List<JsonNode> services = ofKind(docs, "serving.knative.dev/v1", "Service");
        List<JsonNode> sources = ofKind(docs, "sources.knative.dev/v1alpha1", "RabbitmqSource");
        p.check(services.size() == 1, "one Knative Service, found " + services.size());
        if (services.size() == 1) {
            JsonNode service = services.get(0);
            p.equal(Manifests.appName(fn), text(service, "metadata.name"), "Service name");
            JsonNode template = at(service, "spec.template");
            JsonNode annotations = at(template, "metadata.annotations");
            int concurrency = at(template, "spec.containerConcurrency").asInt(-1);
            p.equal(fd.concurrency(), concurrency, "containerConcurrency (= concurrency)");
            p.check(concurrency >= 1 && concurrency <= fd.partitions(),
                    "containerConcurrency " + concurrency + " within 1..partitions (" + fd.partitions() + ")");
            p.equal(String.valueOf(fd.partitions()), annotations.path("autoscaling.knative.dev/max-scale").asText(null),
                    "autoscaling.knative.dev/max-scale (= partitions)");
            int minScale = Integer.parseInt(annotations.path("autoscaling.knative.dev/min-scale").asText("0"));
            p.check(minScale <= fd.partitions(), "min-scale " + minScale + " <= max-scale");
            int timeout = at(template, "spec.timeoutSeconds").asInt(-1);
            p.check(timeout * 1000L > fd.timeout().toMillis(), "timeoutSeconds " + timeout
                    + " s must exceed the handler timeout " + fd.timeout().toMillis() + " ms");
            JsonNode container = onlyContainer(p, at(template, "spec"));
            if (container != null) {
                Map<String, JsonNode> env = env(p, container);
                p.equal("http", value(env, "EVENTLINE_TRIGGER_MODE"), "EVENTLINE_TRIGGER_MODE");
                secretRef(p, env, "EVENTLINE_TRIGGER_TOKEN", Manifests.triggerSecret(fn), "token");
                p.check(!env.containsKey("EVENTLINE_TRIGGER_OPEN"), "the trigger is not open");
                functionEnv(p, m, fn, env);
                p.equal(Manifests.HTTP_PORT, at(container, "ports").path(0).path("containerPort").asInt(-1),
                        "containerPort");
                p.equal(Manifests.READY_PATH, text(container, "readinessProbe.httpGet.path"), "readiness probe");
                p.equal(Manifests.LIVE_PATH, text(container, "livenessProbe.httpGet.path"), "liveness probe");
                resources(p, container);
            }
            prometheus(p, annotations);
            networkPolicy(p, docs, at(template, "metadata.labels"), m.options().knativeNamespaces(),
                    m.options().monitoringNamespace());
        }
        List<String> expected = m.names().partitions(fn, fd.partitions());
        p.equal(expected, sources.stream().map(s -> text(s, "spec.rabbitmqResourcesConfig.queueName")).toList(),
                "RabbitmqSources, one per partition queue in order");
        p.equal(fd.partitions(), (int) sources.stream().map(s -> text(s, "metadata.name")).distinct().count(),
                "distinct RabbitmqSource names");
        for (JsonNode source : sources) {
            String name = text(source, "metadata.name");
            JsonNode spec = source.path("spec");
            p.equal(1, at(spec, "rabbitmqResourcesConfig.parallelism").asInt(-1),
                    name + ": parallelism (1 keeps the partition's order)");
            p.equal(true, at(spec, "rabbitmqResourcesConfig.predeclared").asBoolean(false),
                    name + ": predeclared (Terraform declares the queues)");
            p.equal(m.options().vhost(), text(spec, "rabbitmqResourcesConfig.vhost"), name + ": vhost");
            p.equal(Manifests.rabbitmqSecret(fn), text(spec, "rabbitmqClusterReference.connectionSecret.name"),
                    name + ": connection secret (the function's own broker user)");
            p.check(at(spec, "rabbitmqClusterReference.name").isMissingNode(), name + ": no cluster name beside the secret");
            p.equal(fd.retry().maxAttempts() - 1, at(spec, "delivery.retry").asInt(-1),
                    name + ": delivery.retry (= retry.maxAttempts - 1)");
            p.equal("exponential", text(spec, "delivery.backoffPolicy"), name + ": delivery.backoffPolicy");
            p.equal(fd.retry().initialDelay(), duration(text(spec, "delivery.backoffDelay")),
                    name + ": delivery.backoffDelay (= retry.initialDelayMs)");
            p.check(at(spec, "delivery.deadLetterSink").isMissingNode(), name + ": RabbitmqSource has no deadLetterSink");
            // the Knative Service's cluster-local address, the token as the password of the user info (Basic)
            p.equal("http://eventline:${EVENTLINE_TRIGGER_TOKEN}@" + Manifests.appName(fn)
                    + ".${EVENTLINE_NAMESPACE}.svc.cluster.local", text(spec, "sink.uri"),
                    name + ": sink is the function's Knative Service with the trigger token");
            p.check(at(spec, "sink.ref").isMissingNode(), name + ": no sink.ref (it would resolve to a URI without the token)");
        }
        return p.list;
    }

    // ---- KEDA ----

    static List<String> keda(Manifests m, FunctionDescription fd, List<JsonNode> docs) {
        Problems p = new Problems("keda.yaml of " + fd.name());
        String fn = fd.name();
        p.kinds(docs, Set.of("apps/v1 Deployment", "keda.sh/v1alpha1 ScaledObject", "keda.sh/v1alpha1 TriggerAuthentication",
                "networking.k8s.io/v1 NetworkPolicy"));
        List<JsonNode> deployments = ofKind(docs, "apps/v1", "Deployment");
        List<JsonNode> scaled = ofKind(docs, "keda.sh/v1alpha1", "ScaledObject");
        p.check(deployments.size() == 1 && scaled.size() == 1, "one Deployment and one ScaledObject");
        if (deployments.size() == 1) {
            JsonNode deployment = deployments.get(0);
            p.equal(Manifests.appName(fn), text(deployment, "metadata.name"), "Deployment name");
            p.check(at(deployment, "spec.replicas").isMissingNode(), "no spec.replicas: KEDA owns the count");
            selects(p, at(deployment, "spec.selector.matchLabels"), at(deployment, "spec.template.metadata.labels"));
            long grace = at(deployment, "spec.template.spec.terminationGracePeriodSeconds").asLong(30);
            p.check(grace * 1000 >= fd.timeout().toMillis(), "terminationGracePeriodSeconds " + grace
                    + " s must cover the handler timeout " + fd.timeout().toMillis() + " ms");
            p.check(grace >= Manifests.STOP_WAIT_SECONDS, "terminationGracePeriodSeconds " + grace
                    + " s must cover the graceful stop's wait of " + Manifests.STOP_WAIT_SECONDS + " s");
            JsonNode container = onlyContainer(p, at(deployment, "spec.template.spec"));
            if (container != null) {
                Map<String, JsonNode> env = env(p, container);
                p.check(!"http".equals(value(env, "EVENTLINE_TRIGGER_MODE")), "the queue trigger, not http");
                functionEnv(p, m, fn, env);
                probes(p, container);
                resources(p, container);
            }
            prometheus(p, at(deployment, "spec.template.metadata.annotations"));
            networkPolicy(p, docs, at(deployment, "spec.template.metadata.labels"), List.of(),
                    m.options().monitoringNamespace());
        }
        if (scaled.size() == 1) {
            JsonNode spec = scaled.get(0).path("spec");
            p.equal(List.of("Deployment", Manifests.appName(fn)),
                    List.of(text(spec, "scaleTargetRef.kind"), text(spec, "scaleTargetRef.name")), "scaleTargetRef");
            p.equal(1, spec.path("minReplicaCount").asInt(-1), "minReplicaCount");
            p.equal(fd.partitions(), spec.path("maxReplicaCount").asInt(-1),
                    "maxReplicaCount (= partitions: an instance beyond them owns nothing)");
            if (spec.has("fallback")) {
                p.check(at(spec, "fallback.replicas").asInt() <= fd.partitions(), "fallback.replicas <= partitions");
            }
            JsonNode triggers = spec.path("triggers");
            p.equal(1, triggers.size(), "triggers");
            JsonNode trigger = triggers.path(0);
            JsonNode md = trigger.path("metadata");
            p.equal("rabbitmq", trigger.path("type").asText(null), "trigger type");
            p.equal("http", md.path("protocol").asText(null), "protocol (regex needs the management API)");
            p.equal("true", md.path("useRegex").asText(null), "useRegex");
            p.equal("sum", md.path("operation").asText(null), "operation (sum over the partitions)");
            p.equal("QueueLength", md.path("mode").asText(null), "mode");
            p.equal(String.valueOf(Manifests.kedaQueueLengthTarget(fd)), md.path("value").asText(null),
                    "value (= ceil(limits.depth.soft / partitions))");
            p.check(Integer.parseInt(md.path("pageSize").asText("100")) >= fd.partitions(),
                    "pageSize must list every partition in one page");
            partitionRegex(p, m, fd, md.path("queueName").asText(""));
            String auth = at(trigger, "authenticationRef.name").asText(null);
            List<JsonNode> auths = ofKind(docs, "keda.sh/v1alpha1", "TriggerAuthentication").stream()
                    .filter(a -> Objects.equals(auth, text(a, "metadata.name"))).toList();
            p.check(auths.size() == 1, "authenticationRef " + auth + " is defined in the same file");
            auths.forEach(a -> p.check(a.path("spec").path("secretTargetRef").findValuesAsText("parameter").contains("host"),
                    "TriggerAuthentication gives the parameter host"));
        }
        return p.list;
    }

    private static void partitionRegex(Problems p, Manifests m, FunctionDescription fd, String regex) {
        Pattern pattern;
        try {
            pattern = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            p.list.add(p.where + ": queueName regex " + regex + " does not compile: " + e.getMessage());
            return;
        }
        Names names = m.names();
        String fn = fd.name();
        List<String> want = new ArrayList<>(names.partitions(fn, fd.partitions()));
        want.add(names.partition(fn, fd.partitions() + 10)); // after a repartition to more
        want.forEach(q -> p.check(pattern.matcher(q).find(), "queueName regex " + regex + " must match " + q));
        Set<String> other = new TreeSet<>(List.of(names.deadLetterQueue(fn), names.deadLetterExchange(fn),
                names.partitionLock(fn, 0), names.pauseMarker(fn), names.retryExchange(fn), names.delayQueue(fn, 1),
                names.statusExchange(), names.exchange(fn), "x" + names.partition(fn, 0), names.partition(fn, 0) + "x"));
        m.catalog().all().stream().filter(o -> !o.name().equals(fn))
                .forEach(o -> other.addAll(names.partitions(o.name(), o.partitions())));
        other.forEach(q -> p.check(!pattern.matcher(q).find(), "queueName regex " + regex + " must not match " + q));
    }

    /**
     * One NetworkPolicy selects the pods (its selector matches their labels) for Ingress, and admits only whole
     * namespaces by name: the open ones on any port, the monitoring one on the HTTP port only. No rule without a
     * {@code from} (that would admit everyone), no pod selector or IP block.
     */
    private static void networkPolicy(Problems p, List<JsonNode> docs, JsonNode podLabels, List<String> open,
            String monitoring) {
        List<JsonNode> policies = ofKind(docs, "networking.k8s.io/v1", "NetworkPolicy");
        p.check(policies.size() == 1, "one NetworkPolicy, found " + policies.size());
        if (policies.size() != 1) {
            return;
        }
        JsonNode spec = policies.get(0).path("spec");
        selects(p, at(spec, "podSelector.matchLabels"), podLabels);
        p.equal(List.of("Ingress"), textList(spec.path("policyTypes")), "policyTypes");
        Set<String> admitted = new TreeSet<>();
        spec.path("ingress").forEach(rule -> {
            p.check(rule.path("from").size() > 0, "every ingress rule names whom it admits (no rule without from)");
            List<String> ports = new ArrayList<>();
            rule.path("ports").forEach(port -> ports.add(port.path("port").asText()));
            rule.path("from").forEach(peer -> {
                p.check(peer.size() == 1 && peer.has("namespaceSelector"), "ingress from whole namespaces only: " + peer);
                String ns = peer.path("namespaceSelector").path("matchLabels").path("kubernetes.io/metadata.name").asText("");
                admitted.add(ns);
                boolean metricsOnly = ns.equals(monitoring) && ports.equals(List.of(String.valueOf(Manifests.HTTP_PORT)));
                p.check(open.contains(ns) || metricsOnly, "ingress from namespace '" + ns + "' on ports " + ports);
            });
        });
        p.check(admitted.containsAll(open), "admits " + open + " (without them no request arrives): " + admitted);
    }

    private static List<String> textList(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    // ---- the gate ----

    static List<String> gate(Manifests m, List<JsonNode> docs) {
        Problems p = new Problems("gate.yaml");
        p.kinds(docs, Set.of("apps/v1 Deployment", "v1 Service", "policy/v1 PodDisruptionBudget"));
        List<JsonNode> deployments = ofKind(docs, "apps/v1", "Deployment");
        List<JsonNode> services = ofKind(docs, "v1", "Service");
        p.check(deployments.size() == 1 && services.size() == 1, "one Deployment and one Service");
        if (deployments.size() != 1 || services.size() != 1) {
            return p.list;
        }
        JsonNode deployment = deployments.get(0);
        JsonNode labels = at(deployment, "spec.template.metadata.labels");
        selects(p, at(deployment, "spec.selector.matchLabels"), labels);
        JsonNode container = onlyContainer(p, at(deployment, "spec.template.spec"));
        if (container == null) {
            return p.list;
        }
        Map<String, JsonNode> env = env(p, container);
        p.equal("none", value(env, "EVENTLINE_FUNCTIONS_ENABLED"), "EVENTLINE_FUNCTIONS_ENABLED (the gate runs no function)");
        p.equal("true", value(env, "EVENTLINE_GATE_ENABLED"), "EVENTLINE_GATE_ENABLED");
        p.equal("false", value(env, "EVENTLINE_TOPOLOGY_DECLARE"), "EVENTLINE_TOPOLOGY_DECLARE (Terraform declares)");
        p.check(!env.containsKey("EVENTLINE_GATE_OPEN") || "false".equals(value(env, "EVENTLINE_GATE_OPEN")),
                "the gate is not open");
        secretRef(p, env, "RABBITMQ_URL", Manifests.GATE_SECRET, "url");
        p.check(!m.options().producers().isEmpty(), "at least one producer (without one the gate refuses to start)");
        m.options().producers().forEach((producer, types) -> {
            secretRef(p, env, Manifests.producerKeyVariable(producer), Manifests.PRODUCERS_SECRET, producer);
            String listed = value(env, Manifests.producerTypesVariable(producer));
            if (listed != null) {
                for (String type : listed.split(",")) {
                    p.check(m.catalog().ownerOf(type).isPresent(), "producer " + producer + " may send '" + type
                            + "', which no function owns");
                }
            }
        });
        p.equal("true", value(env, "EVENTLINE_ADMIN_ENABLED"), "EVENTLINE_ADMIN_ENABLED");
        secretRef(p, env, "EVENTLINE_ADMIN_TOKEN", Manifests.ADMIN_SECRET, "token");
        probes(p, container);
        resources(p, container);
        prometheus(p, at(deployment, "spec.template.metadata.annotations"));
        JsonNode service = services.get(0);
        selects(p, at(service, "spec.selector"), labels);
        Set<String> ports = new HashSet<>(at(container, "ports").findValuesAsText("name"));
        at(service, "spec.ports").forEach(port -> p.check(ports.contains(port.path("targetPort").asText()),
                "Service targetPort " + port.path("targetPort").asText() + " names a container port"));
        return p.list;
    }

    // ---- the broker ----

    static List<String> rabbitmqCluster(Manifests m, List<JsonNode> docs) {
        Problems p = new Problems("rabbitmq-cluster.yaml");
        p.kinds(docs, Set.of("rabbitmq.com/v1beta1 RabbitmqCluster"));
        List<String> enabled = m.enabledPlugins();
        p.check(enabled.contains("rabbitmq_consistent_hash_exchange"),
                "infra/rabbitmq/enabled_plugins has rabbitmq_consistent_hash_exchange (the exchanges of brokers "
                        + "upgraded from the consistent-hash topology, until they are deleted)");
        p.check(enabled.contains("rabbitmq_management"),
                "infra/rabbitmq/enabled_plugins has rabbitmq_management (KEDA's regex trigger, the tests)");
        List<JsonNode> clusters = ofKind(docs, "rabbitmq.com/v1beta1", "RabbitmqCluster");
        p.check(clusters.size() == 1, "one RabbitmqCluster");
        if (clusters.size() != 1) {
            return p.list;
        }
        JsonNode spec = clusters.get(0).path("spec");
        p.equal(m.options().clusterName(), text(clusters.get(0), "metadata.name"), "cluster name (the secrets' host)");
        p.equal(DockerBroker.IMAGE, spec.path("image").asText(), "image (pinned to the RabbitMQ the tests run)");
        p.check(spec.path("image").asText().matches("rabbitmq:\\d+\\.\\d+\\.\\d+-management"),
                "image pinned to a patch release: " + spec.path("image").asText());
        int replicas = spec.path("replicas").asInt(1);
        p.check(replicas >= 3 && replicas % 2 == 1, "an odd number of nodes, at least 3, for quorum queues: " + replicas);
        List<String> additional = new ArrayList<>();
        at(spec, "rabbitmq.additionalPlugins").forEach(n -> additional.add(n.asText()));
        p.check(additional.contains("rabbitmq_consistent_hash_exchange"), "additionalPlugins has the consistent-hash plugin");
        enabled.forEach(plugin -> p.check(additional.contains(plugin) || Manifests.OPERATOR_PLUGINS.contains(plugin),
                "plugin " + plugin + " of enabled_plugins is enabled on the cluster"));
        p.equal(m.brokerSettings(), at(spec, "rabbitmq.additionalConfig").asText("").lines().toList(),
                "additionalConfig (= the settings of infra/rabbitmq/rabbitmq.conf)");
        return p.list;
    }

    // ---- secrets ----

    /** Every Secret and key the manifests read must be in the example, with a placeholder value only. */
    static List<String> secrets(Map<String, List<JsonNode>> manifests, List<JsonNode> example) {
        Problems p = new Problems("secrets.example.yaml");
        p.kinds(example, Set.of("v1 Secret"));
        Map<String, JsonNode> secrets = new LinkedHashMap<>();
        for (JsonNode secret : ofKind(example, "v1", "Secret")) {
            secrets.put(text(secret, "metadata.name"), secret.path("stringData"));
            secret.path("stringData").fields().forEachRemaining(e -> {
                String v = e.getValue().asText();
                boolean placeholder = v.contains(Manifests.PLACEHOLDER) || e.getKey().equals("port")
                        || e.getKey().equals("uri") || e.getKey().equals("username");
                p.check(placeholder, text(secret, "metadata.name") + "." + e.getKey() + " must be a placeholder");
            });
        }
        manifests.forEach((file, docs) -> {
            for (JsonNode doc : docs) {
                for (JsonNode ref : doc.findValues("secretKeyRef")) {
                    needs(p, secrets, file, ref.path("name").asText(), ref.path("key").asText());
                }
                for (JsonNode ref : doc.findValues("secretTargetRef")) {
                    ref.forEach(r -> needs(p, secrets, file, r.path("name").asText(), r.path("key").asText()));
                }
                for (JsonNode ref : doc.findValues("connectionSecret")) {
                    // eventing-rabbitmq reads these keys from a connection secret
                    List.of("username", "password", "uri", "port")
                            .forEach(key -> needs(p, secrets, file, ref.path("name").asText(), key));
                }
            }
        });
        return p.list;
    }

    private static void needs(Problems p, Map<String, JsonNode> secrets, String file, String name, String key) {
        p.check(secrets.containsKey(name) && secrets.get(name).has(key),
                file + " reads key " + key + " of Secret " + name + ", which the example lacks");
    }

    // ---- shared pieces ----

    private static void functionEnv(Problems p, Manifests m, String fn, Map<String, JsonNode> env) {
        p.equal(fn, value(env, "EVENTLINE_FUNCTIONS_ENABLED"), "EVENTLINE_FUNCTIONS_ENABLED (this function only)");
        p.equal("false", value(env, "EVENTLINE_GATE_ENABLED"), "EVENTLINE_GATE_ENABLED");
        p.equal("false", value(env, "EVENTLINE_TOPOLOGY_DECLARE"), "EVENTLINE_TOPOLOGY_DECLARE (Terraform declares)");
        p.equal(m.options().prefix().isEmpty() ? null : m.options().prefix(), value(env, "EVENTLINE_TOPOLOGY_PREFIX"),
                "EVENTLINE_TOPOLOGY_PREFIX");
        secretRef(p, env, "RABBITMQ_URL", Manifests.rabbitmqSecret(fn), "url");
    }

    private static void secretRef(Problems p, Map<String, JsonNode> env, String name, String secret, String key) {
        JsonNode ref = env.getOrDefault(name, YAML.missingNode()).path("valueFrom").path("secretKeyRef");
        p.equal(List.of(secret, key), List.of(ref.path("name").asText(""), ref.path("key").asText("")),
                name + " from a Secret");
    }

    private static void probes(Problems p, JsonNode container) {
        p.equal(Manifests.READY_PATH, text(container, "readinessProbe.httpGet.path"), "readiness probe");
        p.equal(Manifests.LIVE_PATH, text(container, "livenessProbe.httpGet.path"), "liveness probe");
        Set<String> names = new HashSet<>(container.path("ports").findValuesAsText("name"));
        for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
            JsonNode port = container.path(probe).path("httpGet").path("port");
            if (!port.isMissingNode()) {
                p.check(port.isInt() ? port.asInt() == Manifests.HTTP_PORT : names.contains(port.asText()),
                        probe + " port " + port.asText() + " is the HTTP port");
            }
        }
        p.check(container.path("ports").findValues("containerPort").stream()
                .anyMatch(n -> n.asInt() == Manifests.HTTP_PORT), "container port " + Manifests.HTTP_PORT);
    }

    private static void resources(Problems p, JsonNode container) {
        for (String part : List.of("requests", "limits")) {
            JsonNode r = container.path("resources").path(part);
            p.check(r.has("cpu") && r.has("memory"), "resources." + part + " has cpu and memory");
        }
    }

    private static void prometheus(Problems p, JsonNode annotations) {
        p.equal(List.of("true", String.valueOf(Manifests.HTTP_PORT), Manifests.METRICS_PATH),
                List.of(annotations.path("prometheus.io/scrape").asText(""), annotations.path("prometheus.io/port").asText(""),
                        annotations.path("prometheus.io/path").asText("")),
                "Prometheus scrape annotations");
    }

    private static void selects(Problems p, JsonNode selector, JsonNode labels) {
        p.check(selector.size() > 0, "a non-empty selector");
        selector.fields().forEachRemaining(e -> p.check(e.getValue().equals(labels.path(e.getKey())),
                "selector " + e.getKey() + "=" + e.getValue().asText() + " matches the pod labels"));
    }

    private static JsonNode onlyContainer(Problems p, JsonNode podSpec) {
        JsonNode containers = podSpec.path("containers");
        p.equal(1, containers.size(), "containers");
        return containers.size() == 1 ? containers.get(0) : null;
    }

    /** The container's environment by name; a name set twice is a problem (the last one would win). */
    private static Map<String, JsonNode> env(Problems p, JsonNode container) {
        Map<String, JsonNode> env = new LinkedHashMap<>();
        container.path("env").forEach(e -> {
            JsonNode before = env.put(e.path("name").asText(), e);
            p.check(before == null, "env " + e.path("name").asText() + " is set once");
        });
        return env;
    }

    private static String value(Map<String, JsonNode> env, String name) {
        JsonNode e = env.get(name);
        return e == null || !e.has("value") ? null : e.path("value").asText();
    }

    private static Duration duration(String iso) {
        try {
            return iso == null ? null : Duration.parse(iso);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    static List<JsonNode> ofKind(List<JsonNode> docs, String apiVersion, String kind) {
        return docs.stream().filter(d -> apiVersion.equals(d.path("apiVersion").asText())
                && kind.equals(d.path("kind").asText())).toList();
    }

    /** The node at a dotted path (keys may not contain dots here). */
    static JsonNode at(JsonNode node, String path) {
        JsonNode n = node;
        for (String key : path.split("\\.")) {
            n = n.path(key);
        }
        return n;
    }

    static String text(JsonNode node, String path) {
        JsonNode n = at(node, path);
        return n.isMissingNode() || n.isNull() ? null : n.asText();
    }

    /** Problems of one file, each prefixed by where it was found. */
    private static final class Problems {
        final String where;
        final List<String> list = new ArrayList<>();

        Problems(String where) {
            this.where = where;
        }

        void check(boolean ok, String what) {
            if (!ok) {
                list.add(where + ": " + what);
            }
        }

        void equal(Object expected, Object actual, String what) {
            if (!Objects.equals(expected, actual)) {
                list.add(where + ": " + what + ": expected " + expected + ", found " + actual);
            }
        }

        void kinds(List<JsonNode> docs, Set<String> allowed) {
            IntStream.range(0, docs.size()).forEach(i -> {
                String kind = docs.get(i).path("apiVersion").asText() + " " + docs.get(i).path("kind").asText();
                check(allowed.contains(kind), "document " + (i + 1) + " is a " + kind + ", not one of " + allowed);
            });
        }
    }
}
