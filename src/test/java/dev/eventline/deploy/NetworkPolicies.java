package dev.eventline.deploy;

import static dev.eventline.deploy.Manifests.map;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The NetworkPolicy of a function's pods: who may open a connection to them at all (the kubelet's probes come from
 * the node, which a NetworkPolicy always admits). It is a second wall behind the trigger's token, not a
 * replacement: on Knative a source's requests reach the pods through the networking layer's gateway and the
 * activator, which carry every other caller's requests too, so the network cannot single the source out.
 */
final class NetworkPolicies {

    private static final String NAMESPACE_LABEL = "kubernetes.io/metadata.name";

    private NetworkPolicies() {
    }

    /** Knative pods: Knative's and the networking layer's namespaces; Prometheus on the HTTP port. */
    static Manifests.Doc knative(String fn, Map<String, Object> podLabels, Manifests.Options options) {
        List<Object> rules = new ArrayList<>();
        rules.add(map("from", options.knativeNamespaces().stream().map(NetworkPolicies::namespace).toList()));
        rules.add(metrics(options));
        return new Manifests.Doc(List.of(
                "Who may connect to the function's pods: Knative Serving (" + String.join(", ", options.knativeNamespaces())
                        + "), through which every request arrives,",
                "sources' included, and Prometheus (" + options.monitoringNamespace() + ") on port " + Manifests.HTTP_PORT
                        + " for /q/metrics. No other pod, in this namespace or any other."),
                policy(fn, podLabels, rules));
    }

    /** Pods of the queue trigger take no events over HTTP: Prometheus on the HTTP port, nothing else. */
    static Manifests.Doc keda(String fn, Map<String, Object> podLabels, Manifests.Options options) {
        return new Manifests.Doc(List.of("Who may connect to the function's pods: Prometheus (" + options.monitoringNamespace()
                + ") on port " + Manifests.HTTP_PORT + " for /q/metrics; events come from the broker, which the pods call."),
                policy(fn, podLabels, List.of(metrics(options))));
    }

    private static Map<String, Object> policy(String fn, Map<String, Object> podLabels, List<Object> rules) {
        return map("apiVersion", "networking.k8s.io/v1",
                "kind", "NetworkPolicy",
                "metadata", map("name", Manifests.appName(fn), "labels", podLabels),
                "spec", map(
                        "podSelector", map("matchLabels", map("app.kubernetes.io/instance",
                                podLabels.get("app.kubernetes.io/instance"), "app.kubernetes.io/component",
                                podLabels.get("app.kubernetes.io/component"))),
                        "policyTypes", List.of("Ingress"),
                        "ingress", rules));
    }

    private static Map<String, Object> metrics(Manifests.Options options) {
        return map("from", List.of(namespace(options.monitoringNamespace())),
                "ports", List.of(map("port", Manifests.HTTP_PORT, "protocol", "TCP")));
    }

    private static Map<String, Object> namespace(String name) {
        return map("namespaceSelector", map("matchLabels", map(NAMESPACE_LABEL, name)));
    }
}
