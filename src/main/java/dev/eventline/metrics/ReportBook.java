package dev.eventline.metrics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

import dev.eventline.broker.PartitionProgress;
import dev.eventline.broker.ProgressReport;
import dev.eventline.config.DescriptionParser;

/**
 * The latest progress report of each process on each function (as {@link FunctionLoad} hears them on the status
 * exchange), for the operator console: who owns which partition, and what it holds in hand. A process that stops
 * reporting is forgotten after {@link #FORGET_NANOS}; at most {@link #MAX_INSTANCES} processes are kept per
 * function (the status exchange is shared: a flood of made-up instance names must not grow this without bound).
 */
@ApplicationScoped
public class ReportBook {

    static final long FORGET_NANOS = 60_000_000_000L;
    static final int MAX_INSTANCES = 256;

    /** A report, and when this process heard it (nanoTime). */
    public record Heard(ProgressReport report, long atNanos) {
    }

    private final Map<String, Map<String, Heard>> latest = new ConcurrentHashMap<>();

    /**
     * Keeps the report as its process's latest; a leaving process is forgotten at once. The status exchange is
     * shared: a report without an instance is dropped, and its partitions are kept only when each is one the
     * function can have (at most {@link DescriptionParser#MAX_PARTITIONS}, once each).
     */
    void put(ProgressReport r) {
        if (r.instance() == null || r.function() == null) {
            return;
        }
        if (r.partitions() != null) {
            Map<Integer, PartitionProgress> valid = new java.util.TreeMap<>();
            for (PartitionProgress p : r.partitions()) {
                if (p != null && p.index() >= 0 && p.index() < DescriptionParser.MAX_PARTITIONS) {
                    valid.putIfAbsent(p.index(), p);
                }
                if (valid.size() == DescriptionParser.MAX_PARTITIONS) {
                    break;
                }
            }
            r = new ProgressReport(r.function(), r.instance(), r.completed(), r.oldestInHand(), r.at(), r.owned(),
                    r.leaving(), r.window(), r.callMicros(), List.copyOf(valid.values()));
        }
        Map<String, Heard> instances = latest.computeIfAbsent(r.function(), k -> new ConcurrentHashMap<>());
        if (r.leaving()) {
            instances.remove(r.instance());
            return;
        }
        long now = System.nanoTime();
        instances.values().removeIf(h -> now - h.atNanos() > FORGET_NANOS);
        if (instances.size() < MAX_INSTANCES || instances.containsKey(r.instance())) {
            instances.put(r.instance(), new Heard(r, now));
        }
    }

    /** @return the function's processes heard within {@code maxAgeNanos}, by instance name */
    public List<Heard> recent(String function, long maxAgeNanos) {
        long now = System.nanoTime();
        List<Heard> found = new ArrayList<>();
        for (Heard h : latest.getOrDefault(function, Map.of()).values()) {
            if (now - h.atNanos() <= maxAgeNanos) {
                found.add(h);
            }
        }
        found.sort(Comparator.comparing(h -> h.report().instance()));
        return found;
    }
}
