package dev.eventline.metrics;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.Docs;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The Prometheus alert rules and the Grafana dashboard in {@code infra/} are checked offline against what
 * this application exports at {@code /q/metrics}: every metric name they use must exist (metrics of other
 * exporters, such as kube-state-metrics, are listed explicitly), every rule has a runbook line, and the
 * dashboard parses and charts our metrics.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
class OperationsFilesTest {

    /** Metric names matter when they have one of these prefixes; the rest of a PromQL text is functions and labels. */
    private static final Pattern METRIC = Pattern.compile("\\b((?:eventline|jvm|process|kube)_[a-zA-Z0-9_]+)\\b");
    /** Exported by kube-state-metrics, not by this application. */
    private static final Set<String> EXTERNAL = Set.of("kube_pod_container_status_last_terminated_reason",
            "kube_pod_container_status_restarts_total");

    private final ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void alertRulesUseExportedMetricsAndEachHasARunbook() throws Exception {
        Set<String> exported = exported();
        JsonNode rules = yaml.readTree(Path.of("infra/prometheus/eventline-alerts.yaml").toFile());
        List<String> alerts = new ArrayList<>();
        for (JsonNode group : rules.path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                String name = rule.path("alert").asText();
                alerts.add(name);
                assertFalse(rule.path("expr").asText().isBlank(), name + ": expr");
                assertTrue(rule.path("labels").has("severity"), name + ": severity label");
                assertFalse(rule.path("annotations").path("summary").asText().isBlank(), name + ": summary");
                assertFalse(rule.path("annotations").path("runbook").asText().isBlank(), name + ": runbook");
                assertEquals(Set.of(), missing(rule.path("expr").asText(), exported), name + " uses unknown metrics");
                // pods are scraped under a job named by the scrape config (kubernetes-pods, <namespace>/<podmonitor>):
                // rules on process-wide metrics select eventline's processes by a series only they export
                String expr = rule.path("expr").asText();
                assertFalse(expr.contains("job="), name + " assumes a scrape job's name: " + expr);
                if (expr.matches("(?s).*\\b(jvm|process)_.*")) {
                    assertTrue(expr.contains("and on (job, instance) eventline_process_info"), name + " is not limited to eventline's processes");
                }
            }
        }
        assertTrue(alerts.containsAll(List.of("EventlineQueueDepthHigh", "EventlineConsumerLagIncreasing",
                "EventlineHandlerTimeouts", "EventlineConsumerRestartedForMemory", "EventlineDeadLetterQueueNearFull",
                "EventlineDeadLettersGrowing", "EventlineGateThrottling", "EventlineGateCannotPublish",
                "EventlineGateAnswering503")),
                "alerts: " + alerts);
    }

    @Test
    void dashboardParsesAndChartsExportedMetrics() throws Exception {
        Set<String> exported = exported();
        JsonNode dashboard = json.readTree(Path.of("infra/grafana/eventline-dashboard.json").toFile());
        assertFalse(dashboard.path("title").asText().isBlank());
        Set<String> charted = new TreeSet<>();
        int panels = 0;
        for (JsonNode panel : dashboard.path("panels")) {
            panels++;
            for (JsonNode target : panel.path("targets")) {
                String expr = target.path("expr").asText();
                assertEquals(Set.of(), missing(expr, exported), panel.path("title").asText() + " uses unknown metrics");
                // durations are histograms, aggregated where the instances meet (no per-instance quantile series)
                assertTrue(!expr.contains("quantile=") && (!expr.contains("_bucket") || expr.contains("histogram_quantile")),
                        panel.path("title").asText() + ": " + expr);
                Matcher m = METRIC.matcher(expr);
                while (m.find()) {
                    charted.add(m.group(1));
                }
            }
        }
        assertTrue(panels >= 8, "panels: " + panels);
        for (String needed : List.of("eventline_function_depth_events", "eventline_queue_depth_events",
                "eventline_function_lag_seconds", "eventline_consumer_lag_seconds",
                "eventline_handler_duration_seconds_bucket", "eventline_processed_events_total",
                "eventline_handler_retries_total", "eventline_dead_letter_depth_events",
                "eventline_gate_admission_decisions_total", "eventline_gate_delay_seconds_bucket",
                "eventline_gate_confirm_seconds_bucket", "eventline_partitions_owned", "eventline_partition_handovers_total")) {
            assertTrue(charted.contains(needed), "the dashboard charts " + needed + ": " + charted);
        }
    }

    /**
     * Every metric name the README, the pages of {@code docs/}, the alert rules (their runbooks included) and the
     * dashboard mention is one
     * this application exports: a name in prose is what an operator types into a query, so a wrong one is a
     * broken instruction.
     */
    @Test
    void everyDocumentedMetricIsExported() throws Exception {
        Set<String> exported = exported();
        Set<String> unknown = new TreeSet<>();
        List<Path> files = new java.util.ArrayList<>(Docs.files());
        files.addAll(List.of(Path.of("infra/prometheus/eventline-alerts.yaml"),
                Path.of("infra/grafana/eventline-dashboard.json")));
        for (Path file : files) {
            Set<String> missing = missing(Files.readString(file), exported);
            missing.forEach(name -> unknown.add(file + ": " + name));
        }
        assertEquals(Set.of(), unknown, "documented but not exported");
    }

    private static Set<String> missing(String expr, Set<String> exported) {
        Set<String> missing = new TreeSet<>();
        Matcher m = METRIC.matcher(expr);
        while (m.find()) {
            String name = m.group(1);
            if (!EXTERNAL.contains(name) && !exported.contains(name)) {
                missing.add(name);
            }
        }
        return missing;
    }

    /** Metric names in the Prometheus scrape, with and without the suffixes of histograms and summaries. */
    private static Set<String> exported() {
        Set<String> names = new TreeSet<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            String scrape = given().get("/q/metrics").then().statusCode(200).extract().asString();
            names.clear();
            for (String line : scrape.split("\n")) {
                if (!line.isEmpty() && !line.startsWith("#")) {
                    String name = line.split("[{ ]", 2)[0];
                    names.add(name);
                    names.add(name.replaceAll("_(bucket|count|sum|max)$", ""));
                }
            }
            return names.contains("eventline_function_depth_events"); // the first depth reading is in
        });
        return names;
    }
}
