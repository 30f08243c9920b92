package dev.eventline.functions.bench;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The benchmark's verifier inside the application: per key, the last step applied. Bounded: beyond
 * {@link #MAX_KEYS} keys the oldest are forgotten (the benchmark uses far fewer).
 */
@ApplicationScoped
public class BenchLedger {

    static final int MAX_KEYS = 500_000;

    /** File to journal every applied step to (for the fault matrix); none by default. */
    @Inject
    @ConfigProperty(name = "eventline.bench.journal")
    Optional<String> journalPath;
    private BenchJournal journal;

    @PostConstruct
    void open() {
        journal = journalPath.map(p -> new BenchJournal(Path.of(p))).orElse(null);
    }

    private final Map<String, Long> last = new LinkedHashMap<>(16, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > MAX_KEYS;
        }
    };
    private long processed;
    private long violations;
    private long duplicates;
    /** Latency histogram, 1 ms buckets up to 60 s (the last bucket takes the rest): fixed size. */
    private final long[] latency = new long[60_001];
    private long measured;

    public synchronized void apply(BenchStep s) {
        if (journal != null) {
            journal.applied(s.key(), s.step());
        }
        long previous = last.getOrDefault(s.key(), 0L);
        if (s.step() <= previous) {
            duplicates++;
            return;
        }
        if (s.step() != previous + 1) {
            violations++;
        }
        last.put(s.key(), s.step());
        processed++;
        if (s.sentAtMs() > 0) {
            latency[(int) Math.min(latency.length - 1, Math.max(0, System.currentTimeMillis() - s.sentAtMs()))]++;
            measured++;
        }
    }

    public synchronized BenchReport report() {
        return new BenchReport(processed, violations, duplicates, last.size(), measured, percentile(0.5),
                percentile(0.99), percentile(0.999));
    }

    private long percentile(double q) {
        long rank = (long) Math.ceil(q * measured);
        long seen = 0;
        for (int ms = 0; ms < latency.length; ms++) {
            seen += latency[ms];
            if (seen >= rank && rank > 0) {
                return ms;
            }
        }
        return 0;
    }
}
