package dev.eventline.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

/** The benchmark's quantiles follow Prometheus' histogram_quantile: buckets summed over instances, interpolated. */
class HistogramsTest {

    private static final String SCRAPE = """
            # HELP x_seconds latency
            x_seconds_bucket{function="a",le="0.001"} 10
            x_seconds_bucket{function="a",le="0.01"} 60
            x_seconds_bucket{function="a",le="0.1"} 90
            x_seconds_bucket{function="a",le="+Inf"} 100
            x_seconds_bucket{function="b",le="0.001"} 0
            x_seconds_bucket{function="b",le="0.01"} 40
            x_seconds_bucket{function="b",le="0.1"} 90
            x_seconds_bucket{function="b",le="+Inf"} 100
            x_seconds_count{function="a"} 100
            y_seconds_bucket{function="a",le="+Inf"} 0
            """;

    @Test
    void sumsTheBucketsOfEveryInstanceAndInterpolatesInsideOne() {
        Map<String, Double> samples = Histograms.parse(SCRAPE);
        // summed: le 0.001 → 10, 0.01 → 100, 0.1 → 180, +Inf → 200. The median (rank 100) is the top of 0.01
        assertEquals(0.01, Histograms.quantile(samples, "x_seconds", "", 0.5), 1e-12);
        // rank 140 of 200: 40 of the 80 between 0.01 and 0.1
        assertEquals(0.01 + 0.09 * 40 / 80, Histograms.quantile(samples, "x_seconds", "", 0.7), 1e-12);
        // rank 5 in the first bucket, interpolated from 0
        assertEquals(0.0005, Histograms.quantile(samples, "x_seconds", "", 0.025), 1e-12);
        // above the highest finite bound: that bound
        assertEquals(0.1, Histograms.quantile(samples, "x_seconds", "", 0.99), 1e-12);
        // one function alone
        assertEquals(0.001 + 0.009 * 40 / 50, Histograms.quantile(samples, "x_seconds", "function=\"a\"", 0.5), 1e-12);
    }

    @Test
    void anEmptyOrUnknownHistogramHasNoQuantile() {
        Map<String, Double> samples = Histograms.parse(SCRAPE);
        assertTrue(Double.isNaN(Histograms.quantile(samples, "y_seconds", "", 0.5)));
        assertTrue(Double.isNaN(Histograms.quantile(samples, "z_seconds", "", 0.5)));
    }
}
