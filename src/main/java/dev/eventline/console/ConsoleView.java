package dev.eventline.console;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.broker.PartitionProgress;
import dev.eventline.broker.Publishing;
import dev.eventline.config.EventlineConfig;
import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.metrics.FunctionLoad;
import dev.eventline.metrics.LoadView;
import dev.eventline.metrics.PipelineMetrics;
import dev.eventline.metrics.QueueMonitor;
import dev.eventline.metrics.ReportBook;
import dev.eventline.topology.Names;

/**
 * What the operator console shows, as one JSON snapshot: per function its partitions (owner, depth, event in hand
 * and its age, window, blocked on a full dead-letter queue), intake (paused, drained), depth, drain rate, lag,
 * dead letters, and this gate's admission decisions per producer. Built only from what this process already
 * reads (the monitor's depth readings, the progress reports on the status exchange, its own counters): a
 * snapshot costs the broker nothing, however many consoles watch.
 */
@ApplicationScoped
public class ConsoleView {

    @Inject
    FunctionCatalog catalog;
    @Inject
    QueueMonitor monitor;
    @Inject
    FunctionLoad load;
    @Inject
    ReportBook reports;
    @Inject
    PipelineMetrics metrics;
    @Inject
    Publishing publishing;
    @Inject
    Names names;
    @Inject
    EventlineConfig config;
    @Inject
    ObjectMapper json;

    public ObjectNode snapshot() {
        long now = System.currentTimeMillis();
        ObjectNode root = json.createObjectNode().put("at", now).put("instance", monitor.instance());
        // owners and in-hand events come from the progress reports, which only a gate reads
        root.put("readsReports", config.gate().enabled());
        root.put("broker", publishing.publisher().map(p -> p.blocked().map(alarm -> "blocked: " + alarm)
                .orElse(p.isOpen() ? "open" : "down")).orElse("no gate here"));
        Map<String, ArrayNode> decisions = decisions();
        ArrayNode functions = root.putArray("functions");
        for (FunctionDescription fn : catalog.all()) {
            ObjectNode f = function(fn, now);
            f.set("decisions", decisions.getOrDefault(fn.name(), json.createArrayNode()));
            functions.add(f);
        }
        return root;
    }

    private ObjectNode function(FunctionDescription fn, long now) {
        LoadView view = load.view(fn);
        long fresh = load.freshNanos();
        Map<Integer, Owner> owners = new HashMap<>();
        ArrayNode instances = json.createArrayNode();
        for (ReportBook.Heard h : reports.recent(fn.name(), fresh)) {
            instances.addObject().put("instance", h.report().instance()).put("owned", h.report().owned())
                    .put("completed", h.report().completed());
            if (h.report().partitions() != null) {
                for (PartitionProgress p : h.report().partitions()) {
                    // during a hand-over two instances may report a partition: the later report wins
                    owners.merge(p.index(), new Owner(h.report().instance(), p, h.report().at()),
                            (a, b) -> a.at() >= b.at() ? a : b);
                }
            }
        }
        // readings older than admission trusts are shown, but marked, and never make a function "drained"
        Optional<QueueMonitor.Depth> reading = monitor.depth(fn.name());
        double age = reading.map(d -> (System.nanoTime() - d.readAtNanos()) / 1e9).orElse(-1.0);
        boolean stale = load.stale(reading);
        long[] depths = monitor.partitionDepths(fn.name());
        ArrayNode partitions = json.createArrayNode();
        boolean inHand = load.anyInHand(fn.name());
        int blocked = 0;
        for (int i = 0; i < fn.partitions(); i++) {
            Owner owner = owners.get(i);
            ObjectNode p = partitions.addObject().put("index", i).put("queue", names.partition(fn.name(), i));
            p.put("depth", i < depths.length ? depths[i] : -1);
            p.put("owner", owner == null ? null : owner.instance());
            if (owner != null) {
                long oldest = owner.progress().oldestInHand();
                inHand |= oldest > 0;
                blocked += owner.progress().blocked() ? 1 : 0;
                p.put("inHand", oldest > 0).put("lagSeconds", oldest > 0 ? Math.max(0, now - oldest) / 1000.0 : 0)
                        .put("window", owner.progress().window())
                        .put("callMillis", owner.progress().callMicros() / 1000.0)
                        .put("blocked", owner.progress().blocked());
            }
        }
        boolean paused = monitor.paused(fn.name());
        long depth = 0;
        for (long d : depths) {
            depth += Math.max(0, d);
        }
        long delayed = monitor.delayedDepth(fn.name());
        // what a partition-count change waits for (PartitionAdmin checks it again on the broker): intake paused,
        // every partition and delay queue empty, nothing in hand anywhere
        boolean drained = paused && !stale && depths.length == fn.partitions() && depth == 0 && delayed == 0
                && !inHand;
        ObjectNode f = json.createObjectNode().put("name", fn.name()).put("partitionCount", fn.partitions())
                .put("mode", fn.retry().mode().name().toLowerCase(java.util.Locale.ROOT))
                .put("paused", paused).put("drained", drained).put("readingAgeSeconds", age).put("stale", stale)
                .put("depth", depth).put("delayed", delayed).put("drainPerSecond", view.drainPerSecond())
                .put("lagSeconds", view.lagSeconds()).put("latencyTargetMs", fn.limits().latencyTarget().toMillis())
                .put("deadLetters", monitor.deadLetterDepth(fn.name()))
                .put("deadLetterMax", fn.limits().deadLetterMax()).put("blockedPartitions", blocked);
        f.set("partitions", partitions);
        f.set("instances", instances);
        return f;
    }

    private record Owner(String instance, PartitionProgress progress, long at) {
    }

    /** This gate's decisions, per function: one row per producer with a count per decision. */
    private Map<String, ArrayNode> decisions() {
        Map<String, Map<String, ObjectNode>> rows = new HashMap<>();
        metrics.decisions().forEach((d, count) -> rows.computeIfAbsent(d.function(), k -> new java.util.TreeMap<>())
                .computeIfAbsent(d.producer(), k -> json.createObjectNode().put("producer", k).put("accepted", 0)
                        .put("delayed", 0).put("throttled", 0).put("unavailable", 0))
                .put(d.decision(), count));
        Map<String, ArrayNode> out = new HashMap<>();
        rows.forEach((fn, byProducer) -> out.put(fn, json.createArrayNode().addAll(List.copyOf(byProducer.values()))));
        return out;
    }
}
