package dev.eventline.trigger;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeoutException;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.eventline.broker.Broker;
import dev.eventline.broker.EventCodec;
import dev.eventline.config.EventlineConfig;
import dev.eventline.config.FunctionDescription;
import dev.eventline.metrics.PipelineMetrics;
import dev.eventline.topology.Names;
import dev.eventline.util.Daemons;

/** The queue trigger: runs functions' consumers on their partition queues. */
@ApplicationScoped
public class Trigger {

    @Inject
    Broker broker;
    @Inject
    Names names;
    @Inject
    PipelineMetrics metrics;
    @Inject
    ObjectMapper json;
    @Inject
    EventCodec codec;
    @Inject
    EventlineConfig config;

    private final ScheduledExecutorService reports = Daemons.scheduler("eventline-progress");

    private volatile FunctionInvokers invokers;
    private volatile Membership membership;

    /** Checks that every event type of these functions has a {@code @Funq} method; start-up fails otherwise. */
    public void check(Collection<FunctionDescription> functions) {
        for (FunctionDescription fn : functions) {
            invokers().requireAll(fn);
        }
    }

    /**
     * Starts consumers for these functions under one instance name (the name appears in connection names and
     * consumer tags). Several instances may run in one process; each behaves as a separate process would.
     */
    public Running launch(String instance, Collection<FunctionDescription> functions)
            throws IOException, TimeoutException {
        return launch(instance, functions, broker);
    }

    /**
     * The same, with the consumers' connections opened on this broker (e.g. {@link Broker#through} a network
     * of one's own); progress reports are still read on the application's.
     */
    public Running launch(String instance, Collection<FunctionDescription> functions, Broker on)
            throws IOException, TimeoutException {
        Running running = new Running();
        try {
            Membership members = functions.isEmpty() ? null : membership(instance);
            for (FunctionDescription fn : functions) {
                running.functions.add(FunctionConsumers.start(on, instance, fn, names, invokers(), metrics, json,
                        codec, reports, config.monitor().interval(), members));
            }
        } catch (IOException | TimeoutException | RuntimeException e) {
            running.stop(Duration.ZERO);
            throw e;
        }
        return running;
    }

    @jakarta.annotation.PreDestroy
    void close() {
        reports.shutdownNow();
        if (membership != null) {
            membership.close();
        }
    }

    /** One listener per process for the instances' progress reports (it only observes). */
    private synchronized Membership membership(String process) throws IOException, TimeoutException {
        if (membership == null) {
            Membership m = new Membership(config.monitor().interval());
            m.start(broker, names, json, process);
            membership = m;
        }
        return membership;
    }

    FunctionInvokers invokers() {
        if (invokers == null) {
            invokers = new FunctionInvokers();
        }
        return invokers;
    }

    /** Consumers started by one {@link #launch}. */
    public static final class Running {
        private final List<FunctionConsumers> functions = new ArrayList<>();

        private Running() {
        }

        /** @return partitions of this function that this instance owns */
        public int owned(String function) {
            return functions.stream().filter(f -> f.description().name().equals(function))
                    .mapToInt(FunctionConsumers::ownedCount).sum();
        }

        /** @return the partitions of this function this instance owns, by index */
        public List<Integer> ownedPartitions(String function) {
            return functions.stream().filter(f -> f.description().name().equals(function))
                    .flatMap(f -> f.ownedPartitions().stream()).sorted().toList();
        }

        /** @return for each function, how many partitions this instance owns */
        public java.util.Map<String, Integer> ownership() {
            java.util.Map<String, Integer> owned = new java.util.TreeMap<>();
            functions.forEach(f -> owned.merge(f.description().name(), f.ownedCount(), Integer::sum));
            return owned;
        }

        /** @return partition queue → what was seen, for partitions that hold events and stopped draining */
        public java.util.Map<String, String> stalled() {
            java.util.Map<String, String> all = new java.util.TreeMap<>();
            functions.forEach(f -> all.putAll(f.stalled()));
            return all;
        }

        /** @return whether every function's connections are open (false from a loss until reconnected) */
        public boolean isOpen() {
            return functions.stream().allMatch(FunctionConsumers::isOpen);
        }

        /** Graceful: hands partitions over, lets calls in progress finish (bounded by {@code wait}). */
        public void stop(Duration wait) {
            functions.forEach(f -> f.stop(wait));
        }
    }
}
