package dev.eventline.config;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/**
 * Reads one {@code function.yaml} (YAML or JSON, since JSON is YAML) and validates every field. Unknown
 * fields are errors, so a typo cannot silently fall back to a default. The format is documented in the
 * docs/functions.md ("Function descriptions"); the deployment files generated from it (Kubernetes,
 * terraform/topology.json) go through this parser too.
 */
public final class DescriptionParser {

    /**
     * Function names become queue and exchange names, broker user names, the users' permission regexes and
     * Kubernetes names: lower-case words of letters and digits joined by single '-', no regex metacharacter, no
     * '.' (the separator of {@code <fn>.dlx}, {@code <fn>.dlq}, {@code <fn>.retry}).
     */
    public static final Pattern NAME = Pattern.compile("[a-z][a-z0-9]*(-[a-z0-9]+)*");
    /** A name ending in {@code -<digits>} is the name of a partition queue of another function ({@code <fn>-<i>}). */
    static final Pattern PARTITION_LIKE = Pattern.compile(".*-[0-9]+");
    public static final int MAX_NAME = 40;
    /**
     * {@code amq}: the broker reserves {@code amq.*}, so {@code amq.dlx} could never be declared; {@code gate}: the
     * gate's Kubernetes objects and Secret are {@code eventline-gate}, {@code eventline-rabbitmq-gate}.
     */
    /** A partition's window when the description sets none (docs/partitions.md "Pipelined partitions"). */
    public static final int DEFAULT_PREFETCH = 32;
    /** The queueing delay the gate aims at when the description sets none (docs/gate.md "Backpressure"). */
    public static final long DEFAULT_LATENCY_TARGET_MS = 100;
    static final int MAX_PREFETCH = 1000;
    /** Calls at once in one partition ({@code keyConcurrency}), at most. */
    static final int MAX_KEY_CONCURRENCY = 256;
    public static final Set<String> RESERVED_NAMES = Set.of("amq", "gate");
    static final Pattern EVENT_TYPE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}");
    public static final int MAX_PARTITIONS = 256;

    private static final Set<String> TOP = Set.of("name", "description", "eventTypes", "partitions", "concurrency",
            "keyConcurrency", "timeoutMs", "prefetch", "retry", "limits", "dedup");
    private static final Set<String> RETRY = Set.of("maxAttempts", "initialDelayMs", "multiplier", "maxDelayMs",
            "mode", "nonRetryable", "afterDeadLetter");
    private static final Set<String> LIMITS = Set.of("depth", "lagSeconds", "latencyTargetMs", "deadLetterMax",
            "deadLetterWarn");
    private static final Set<String> DEDUP = Set.of("enabled", "windowSeconds", "maxEntries", "maxBytes");
    /** Default of {@code dedup.maxBytes}: 16 MiB, some 65,000 ids of 40 characters from sources of 40 (258 bytes each). */
    public static final long DEDUP_MAX_BYTES = 16L << 20;
    static final Pattern CLASS_NAME = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*");
    private static final Set<String> SOFT_HARD = Set.of("soft", "hard");
    private static final Set<String> DEPTH = Set.of("soft", "hard", "ceiling");

    /** Every field a description may have, as dotted paths (the format table of docs/functions.md is checked against it). */
    public static final List<String> FIELDS = List.of("name", "description", "eventTypes", "partitions",
            "concurrency", "keyConcurrency", "timeoutMs", "prefetch", "retry.maxAttempts", "retry.initialDelayMs", "retry.multiplier",
            "retry.maxDelayMs", "retry.mode", "retry.nonRetryable", "retry.afterDeadLetter", "limits.depth.soft", "limits.depth.hard",
            "limits.depth.ceiling", "limits.lagSeconds.soft", "limits.lagSeconds.hard", "limits.latencyTargetMs",
            "limits.deadLetterMax", "limits.deadLetterWarn", "dedup.enabled", "dedup.windowSeconds", "dedup.maxEntries",
            "dedup.maxBytes");

    private final ObjectMapper yaml = new ObjectMapper(new YAMLFactory());

    /**
     * @param source   file or resource name, used in every error message
     * @param content  the file's text
     * @param expected the folder name the file sits in (the function name must equal it), or null
     */
    public FunctionDescription parse(String source, String content, String expected) {
        Object tree;
        try {
            tree = yaml.readValue(content, Object.class);
        } catch (JacksonException e) {
            throw new DescriptionException(source, null, "not valid YAML: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new DescriptionException(source, null, "cannot be read: " + e.getMessage());
        }
        Fields top = new Fields(source, "", asMap(source, "", tree), TOP);
        String name = top.string("name", null);
        checkName(source, name);
        if (expected != null && !expected.equals(name)) {
            throw new DescriptionException(source, "name", "'" + name + "' must equal its folder name '" + expected + "'");
        }
        top.string("description", "");
        List<String> types = eventTypes(top);
        int partitions = (int) top.integer("partitions", 4, 1, MAX_PARTITIONS);
        int concurrency = (int) top.integer("concurrency", partitions, 1, partitions);
        Duration timeout = Duration.ofMillis(top.integer("timeoutMs", 30_000, 1, 3_600_000));
        int keyConcurrency = (int) top.integer("keyConcurrency", 1, 1, MAX_KEY_CONCURRENCY);
        // the window holds the calls in progress and the events behind them: by default twice the calls
        int prefetch = (int) top.integer("prefetch", Math.min(MAX_PREFETCH, Math.max(DEFAULT_PREFETCH,
                2 * keyConcurrency)), keyConcurrency, MAX_PREFETCH);

        Fields retry = top.child("retry", RETRY);
        int maxAttempts = (int) retry.integer("maxAttempts", 5, 1, 100);
        long initialDelay = retry.integer("initialDelayMs", 200, 0, 3_600_000);
        double multiplier = retry.decimal("multiplier", 2.0, 1.0, 100.0);
        long maxDelay = retry.integer("maxDelayMs", Math.max(10_000, initialDelay), initialDelay, 3_600_000);
        // with key concurrency a failing key should hold only itself: parked; with one call at a time the
        // retrying event holds its partition whatever the mode, so strict says what happens
        String mode = retry.string("mode", keyConcurrency > 1 ? "parked" : "strict");
        if (!mode.equals("strict") && !mode.equals("relaxed") && !mode.equals("parked")) {
            throw new DescriptionException(source, "retry.mode", "'" + mode + "' must be strict, relaxed or parked");
        }
        if (mode.equals("parked") && keyConcurrency < 2) {
            throw new DescriptionException(source, "retry.mode", "parked needs keyConcurrency 2 or more: with one "
                    + "call at a time the retrying event holds its whole partition (use strict)");
        }
        List<String> nonRetryable = retry.strings("nonRetryable", CLASS_NAME, "a Java class name");
        String afterDeadLetter = retry.string("afterDeadLetter", "proceed");
        if (!afterDeadLetter.equals("proceed") && !afterDeadLetter.equals("hold")) {
            throw new DescriptionException(source, "retry.afterDeadLetter", "'" + afterDeadLetter
                    + "' must be proceed or hold");
        }
        if (afterDeadLetter.equals("hold") && !mode.equals("parked")) {
            throw new DescriptionException(source, "retry.afterDeadLetter", "hold needs retry.mode parked");
        }

        Fields limits = top.child("limits", LIMITS);
        Fields depth = limits.child("depth", DEPTH);
        long depthSoft = depth.integer("soft", 10_000, 1, Long.MAX_VALUE / 4);
        long depthHard = depth.integer("hard", Math.max(50_000, depthSoft), depthSoft, Long.MAX_VALUE / 4);
        long ceiling = depth.integer("ceiling", 2 * depthHard, Math.max(depthHard, partitions), Long.MAX_VALUE / 2);
        Fields lag = limits.child("lagSeconds", SOFT_HARD);
        long lagSoft = lag.integer("soft", 10, 1, 86_400);
        long lagHard = lag.integer("hard", Math.max(60, lagSoft), lagSoft, 86_400);
        long latencyTarget = limits.integer("latencyTargetMs", Math.min(DEFAULT_LATENCY_TARGET_MS, lagSoft * 1000), 1,
                lagSoft * 1000);
        long deadLetterMax = limits.integer("deadLetterMax", 100_000, 1, Long.MAX_VALUE / 2);
        double deadLetterWarn = limits.decimal("deadLetterWarn", 0.8, 0.01, 1.0);

        Fields dedup = top.child("dedup", DEDUP);
        boolean dedupEnabled = dedup.bool("enabled", true);
        long window = dedup.integer("windowSeconds", 600, 1, 7 * 86_400);
        int maxEntries = (int) dedup.integer("maxEntries", 100_000, 1, 10_000_000);
        long maxBytes = dedup.integer("maxBytes", DEDUP_MAX_BYTES, 4096, 1L << 30);

        return new FunctionDescription(name, source, types, partitions, concurrency, timeout, prefetch, keyConcurrency,
                new FunctionDescription.Retry(maxAttempts, Duration.ofMillis(initialDelay), multiplier,
                        Duration.ofMillis(maxDelay), FunctionDescription.RetryMode.valueOf(mode.toUpperCase()),
                        nonRetryable, afterDeadLetter.equals("hold")),
                new FunctionDescription.Limits(depthSoft, depthHard, ceiling, lagSoft, lagHard, deadLetterMax,
                        deadLetterWarn, Duration.ofMillis(latencyTarget)),
                new FunctionDescription.Dedup(dedupEnabled, Duration.ofSeconds(window), maxEntries, maxBytes));
    }

    /** Why a name is unsafe, or null: {@link #NAME}, at most {@link #MAX_NAME}, not partition-like, not reserved. */
    public static String nameProblem(String name) {
        if (name.length() > MAX_NAME || !NAME.matcher(name).matches()) {
            return "must be 1-" + MAX_NAME + " characters matching " + NAME.pattern()
                    + ": lower-case letters and digits in words joined by single '-', starting with a letter";
        }
        if (PARTITION_LIKE.matcher(name).matches()) {
            return "must not end in -<digits>: that is the name of a partition queue of a function named "
                    + name.substring(0, name.lastIndexOf('-'));
        }
        if (RESERVED_NAMES.contains(name)) {
            return "is reserved (" + String.join(", ", RESERVED_NAMES.stream().sorted().toList())
                    + "): the broker keeps amq.* to itself, and the gate's objects are named eventline-gate";
        }
        return null;
    }

    private static void checkName(String source, String name) {
        String problem = nameProblem(name);
        if (problem != null) {
            throw new DescriptionException(source, "name", "'" + name + "' " + problem
                    + " (it becomes queue, exchange and user names and the users' permission regexes)");
        }
    }

    private static List<String> eventTypes(Fields top) {
        Object raw = top.values.get("eventTypes");
        if (!(raw instanceof List<?> list) || list.isEmpty()) {
            throw new DescriptionException(top.source, "eventTypes", "required: a non-empty list of CloudEvent types");
        }
        Set<String> types = new LinkedHashSet<>();
        for (int i = 0; i < list.size(); i++) {
            Object t = list.get(i);
            String field = "eventTypes[" + i + "]";
            if (!(t instanceof String s) || !EVENT_TYPE.matcher(s).matches()) {
                throw new DescriptionException(top.source, field,
                        "'" + t + "' is not an event type (expected text matching " + EVENT_TYPE.pattern() + ")");
            }
            if (!types.add(s)) {
                throw new DescriptionException(top.source, field, "'" + s + "' is listed twice");
            }
        }
        return List.copyOf(new ArrayList<>(types));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(String source, String field, Object value) {
        if (value == null) {
            return Map.of();
        }
        if (!(value instanceof Map<?, ?>)) {
            throw new DescriptionException(source, field.isEmpty() ? null : field,
                    "expected a mapping of keys to values, found " + describe(value));
        }
        return (Map<String, Object>) value;
    }

    private static String describe(Object value) {
        return value instanceof List ? "a list" : "'" + value + "'";
    }

    /** The keys of one mapping, with the dotted path for messages. */
    private static final class Fields {
        final String source;
        final String path;
        final Map<String, Object> values;

        Fields(String source, String path, Map<String, Object> values, Set<String> allowed) {
            this.source = source;
            this.path = path;
            this.values = values;
            for (String key : values.keySet()) {
                if (!allowed.contains(key)) {
                    throw new DescriptionException(source, path + key,
                            "unknown field; allowed here: " + String.join(", ", allowed.stream().sorted().toList()));
                }
            }
        }

        Fields child(String key, Set<String> allowed) {
            return new Fields(source, path + key + ".", asMap(source, path + key, values.get(key)), allowed);
        }

        String string(String key, String fallback) {
            Object v = values.get(key);
            if (v == null) {
                if (fallback == null) {
                    throw new DescriptionException(source, path + key, "required");
                }
                return fallback;
            }
            if (!(v instanceof String s)) {
                throw new DescriptionException(source, path + key, "expected text, found " + describe(v));
            }
            return s;
        }

        boolean bool(String key, boolean fallback) {
            Object v = values.get(key);
            if (v == null) {
                return fallback;
            }
            if (!(v instanceof Boolean b)) {
                throw new DescriptionException(source, path + key, "expected true or false, found " + describe(v));
            }
            return b;
        }

        List<String> strings(String key, Pattern pattern, String what) {
            Object v = values.get(key);
            if (v == null) {
                return List.of();
            }
            if (!(v instanceof List<?> list)) {
                throw new DescriptionException(source, path + key, "expected a list, found " + describe(v));
            }
            List<String> out = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                if (!(list.get(i) instanceof String s) || !pattern.matcher(s).matches()) {
                    throw new DescriptionException(source, path + key + "[" + i + "]",
                            "'" + list.get(i) + "' is not " + what);
                }
                out.add(s);
            }
            return List.copyOf(out);
        }

        long integer(String key, long fallback, long min, long max) {
            Object v = values.get(key);
            if (v == null) {
                return fallback;
            }
            if (!(v instanceof Integer || v instanceof Long)) {
                throw new DescriptionException(source, path + key, "expected a whole number, found " + describe(v));
            }
            long n = ((Number) v).longValue();
            if (n < min || n > max) {
                throw new DescriptionException(source, path + key,
                        n + " is out of range; allowed " + min + ".." + max);
            }
            return n;
        }

        double decimal(String key, double fallback, double min, double max) {
            Object v = values.get(key);
            if (v == null) {
                return fallback;
            }
            if (!(v instanceof Number n)) {
                throw new DescriptionException(source, path + key, "expected a number, found " + describe(v));
            }
            double d = n.doubleValue();
            if (d < min || d > max) {
                throw new DescriptionException(source, path + key, d + " is out of range; allowed " + min + ".." + max);
            }
            return d;
        }
    }
}
