package dev.eventline.loadtest;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Quantiles from the application's latency histograms, as Prometheus' {@code histogram_quantile} computes them:
 * the cumulative {@code <name>_bucket{le=…}} series summed over every other label (functions, instances), then
 * linear interpolation inside the bucket that holds the rank. The histograms count since the process started, so a
 * quantile is over the process's whole run.
 */
final class Histograms {

    private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)\\{([^}]*)\\} ([0-9.eE+-]+|NaN)$");
    private static final Pattern LE = Pattern.compile("le=\"([^\"]+)\"");

    private Histograms() {
    }

    /** @return every sample of the scrape, keyed {@code name{labels}} */
    static Map<String, Double> parse(String scrape) {
        Map<String, Double> values = new TreeMap<>();
        for (String line : scrape.split("\n")) {
            Matcher m = LINE.matcher(line);
            if (m.matches() && !m.group(3).equals("NaN")) {
                values.put(m.group(1) + "{" + m.group(2) + "}", Double.parseDouble(m.group(3)));
            }
        }
        return values;
    }

    /**
     * @param name   the histogram, e.g. {@code eventline_pipeline_latency_seconds}
     * @param labels text every counted series must contain (e.g. {@code function="bench"}), or empty
     * @return the q-quantile in the histogram's unit; NaN when it counted nothing
     */
    static double quantile(Map<String, Double> samples, String name, String labels, double q) {
        TreeMap<Double, Double> buckets = new TreeMap<>();
        samples.forEach((key, value) -> {
            if (key.startsWith(name + "_bucket{") && key.contains(labels)) {
                Matcher le = LE.matcher(key);
                if (le.find()) {
                    double bound = le.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le.group(1));
                    buckets.merge(bound, value, Double::sum);
                }
            }
        });
        if (buckets.isEmpty() || buckets.lastEntry().getValue() <= 0) {
            return Double.NaN;
        }
        double rank = q * buckets.lastEntry().getValue();
        double lower = 0;
        double below = 0;
        for (Map.Entry<Double, Double> b : buckets.entrySet()) {
            if (b.getValue() >= rank) {
                if (b.getKey().isInfinite()) {
                    return lower; // above the highest finite bound: that bound, as histogram_quantile says
                }
                double inBucket = b.getValue() - below;
                return inBucket <= 0 ? b.getKey() : lower + (b.getKey() - lower) * (rank - below) / inBucket;
            }
            lower = b.getKey();
            below = b.getValue();
        }
        return lower;
    }
}
