package dev.eventline.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Runtime settings (prefix {@code eventline}); every key is also an environment variable
 * ({@code eventline.gate.enabled} = {@code EVENTLINE_GATE_ENABLED}). The configuration table of docs/configuration.md is
 * checked against this interface by a test.
 */
@ConfigMapping(prefix = "eventline")
public interface EventlineConfig {

    /** Name of this process in connection names and logs; defaults to the host name and process id. */
    Optional<String> instanceId();

    /** Function descriptions. */
    Functions functions();

    /** How this process's functions receive their events. */
    TriggerSettings trigger();

    /** Broker topology. */
    Topology topology();

    /** The HTTP ingress. */
    Gate gate();

    /** Dead-letter administration over HTTP. */
    Admin admin();

    /** Polling of queue depths for metrics and warnings. */
    Monitor monitor();

    interface Functions {
        /**
         * Functions this process consumes for, by name, or {@code all}; {@code none} runs the gate alone.
         * Default {@code all}.
         */
        @WithDefault("all")
        List<String> enabled();

        /**
         * Directory holding {@code <name>/function.yaml} descriptions, read instead of the ones built into
         * the application (e.g. a mounted ConfigMap); defaults to the built-in ones.
         */
        Optional<String> dir();
    }

    interface TriggerSettings {
        /**
         * {@code queue}: consume the enabled functions' partition queues in this process (containers, KEDA);
         * {@code http}: consume nothing, answer CloudEvents posted to {@code /} for the enabled functions (Knative
         * services fed by a RabbitMQ source; docs/deploying.md "Deploying"). Default {@code queue}.
         */
        @WithDefault("queue")
        Mode mode();

        /**
         * Shared secret (16+ URL-safe characters: A-Z a-z 0-9 - . _ ~) that HTTP mode requires of every caller of
         * {@code /}, {@code /dead-letters} and the function paths, as the password of {@code Authorization: Basic}
         * (what a RabbitmqSource sends from the user info of its sink URI) or as {@code Authorization: Bearer}; no
         * default: HTTP mode without it (and without {@code open}) does not start. Env {@code EVENTLINE_TRIGGER_TOKEN}.
         */
        Optional<String> token();

        /**
         * Development only: HTTP mode without a credential, so anyone who reaches the process can run the handlers
         * and write dead letters (start-up logs a warning). Default false; not allowed together with a token.
         */
        @WithDefault("false")
        boolean open();

        /**
         * How long the HTTP trigger's dead-letter sink waits for the broker's confirm before answering {@code 503}
         * (the sender keeps the event and retries); a publishing channel that leaves it unconfirmed longer is
         * replaced. Default 10s.
         */
        @WithDefault("10s")
        Duration confirmTimeout();

        enum Mode {
            QUEUE,
            HTTP
        }
    }

    interface Topology {
        /** Declare exchanges and queues at start-up (true) or only verify them against the descriptions (false). */
        @WithDefault("true")
        boolean declare();

        /** Prefix for every exchange and queue name (isolates test runs or tenants on one vhost); default none. */
        Optional<String> prefix();
    }

    interface Gate {
        /** Serve {@code POST /events} in this process. Default true. */
        @WithDefault("true")
        boolean enabled();

        /** Largest accepted encoded event, bytes; larger gets {@code 413}. Default 262144 (256 KiB). */
        @WithDefault("262144")
        int maxEventBytes();

        /** Largest request body, bytes; larger gets {@code 413}. Default 4194304 (4 MiB). */
        @WithDefault("4194304")
        int maxRequestBytes();

        /** Most events in one batch request; more gets {@code 413}. Default 1000. */
        @WithDefault("1000")
        int maxBatchEvents();

        /**
         * How long the gate waits for the broker's confirms before answering {@code 503}; a publishing channel that
         * leaves a publish unconfirmed longer is replaced, its unconfirmed publishes failed. Default 10s.
         */
        @WithDefault("10s")
        Duration confirmTimeout();

        /**
         * Development mode: accept events without producer credentials. Default false; with no producer
         * configured and this false, start-up fails.
         */
        @WithDefault("false")
        boolean open();

        /** Producers allowed to post, by name: {@code eventline.gate.producers.<name>.key} and {@code .types}. */
        Map<String, Producer> producers();

        /** Longest a request is held while its function is between its soft and hard limits. Default 2s. */
        @WithDefault("2s")
        Duration maxDelay();

        /** Most requests held at once; beyond it a request that would be held gets {@code 429}. Default 100. */
        @WithDefault("100")
        int maxDelayed();

        /** Cap on the {@code Retry-After} the gate computes from the drain rate. Default 60s. */
        @WithDefault("60s")
        Duration maxRetryAfter();
    }

    interface Producer {
        /** The producer's API key, sent as {@code Authorization: Bearer <key>} (16+ characters). */
        String key();

        /** Event types it may send; all when absent. */
        Optional<List<String>> types();
    }

    interface Admin {
        /**
         * Serve {@code /admin/...} (dead letters, intake, partitions) and the operator console at {@code /console}.
         * Default false. When true, {@code eventline.admin.token} must be set, or start-up fails: the endpoints are
         * never exposed open.
         */
        @WithDefault("false")
        boolean enabled();

        /** Bearer token the admin endpoints require (at least 16 characters); env {@code EVENTLINE_ADMIN_TOKEN}. */
        Optional<String> token();

        /** Default replay rate, events per second (a request may ask for less). Default 100. */
        @WithDefault("100")
        int replayRate();

        /** Most events one replay or purge request moves; the answer says when more matched. Default 1000. */
        @WithDefault("1000")
        int maxBatch();
    }

    interface Monitor {
        /**
         * How often queue depths are read from the broker (one passive declare per queue, whatever the request
         * rate) and consumers report their progress. The gate's view of depth and lag is at most this old
         * (plus what it accepted since, which it adds itself). Default 500ms.
         */
        @WithDefault("500ms")
        Duration interval();
    }
}
