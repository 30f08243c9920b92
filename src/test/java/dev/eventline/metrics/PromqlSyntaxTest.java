package dev.eventline.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.eventline.testsupport.OfflineTools;

/**
 * Every PromQL expression of the alert rules and the dashboard parses with Prometheus's own grammar
 * ({@code tools/offline-check/promql-check.mjs}, npm {@code @prometheus-io/lezer-promql}): a syntax error, which
 * Prometheus would refuse to load or a panel would show, fails here. It checks syntax only, not types (a
 * {@code rate} of an instant vector parses). Which metrics they name is checked against the application's
 * scrape by {@link OperationsFilesTest}.
 */
class PromqlSyntaxTest {

    private static final String ALERTS = "infra/prometheus/eventline-alerts.yaml";
    private static final String DASHBOARD = "infra/grafana/eventline-dashboard.json";

    @Test
    void everyRuleAndPanelParses() {
        OfflineTools.Result r = OfflineTools.node("promql-check.mjs", ALERTS, DASHBOARD).orFail("promql-check.mjs");
        long checked = r.stdout().lines().filter(l -> l.endsWith(": ok")).count();
        assertTrue(checked >= 30, "expressions checked: " + checked + "\n" + r.stdout());
        assertTrue(r.stdout().contains(ALERTS + ": rule EventlineGateCannotPublish: ok"), r.stdout());
        assertTrue(r.stdout().contains(DASHBOARD + ": variable function: ok"), r.stdout());
    }

    @Test
    void anExpressionPrometheusWouldRefuseFailsAndIsNamed(@TempDir Path dir) throws IOException {
        Path rules = dir.resolve("rules.yaml");
        Files.writeString(rules, Files.readString(Path.of(ALERTS)).replace(
                "expr: max by (function) (eventline_dead_letter_blocked_partitions) > 0",
                "expr: max by (function) (eventline_dead_letter_blocked_partitions > 0"));
        OfflineTools.Result r = OfflineTools.node("promql-check.mjs", rules.toString());
        assertEquals(1, r.exitCode(), r.stdout() + r.stderr());
        assertTrue(r.stderr().contains("rule EventlineDeadLetterBlocked: syntax error"), r.stderr());
    }
}
