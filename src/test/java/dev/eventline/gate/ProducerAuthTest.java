package dev.eventline.gate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.eventline.config.EventlineConfig;
import dev.eventline.http.HttpError;

/** Who may post: the gate refuses to start open by accident, and checks keys and types. */
class ProducerAuthTest {

    @Test
    void refusesToStartWithoutProducersUnlessOpen() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new ProducerAuth(gate(false, Map.of())));
        assertTrue(e.getMessage().contains("eventline.gate.producers") && e.getMessage().contains("eventline.gate.open"),
                e.getMessage());
        assertEquals(ProducerAuth.ANONYMOUS, new ProducerAuth(gate(true, Map.of())).authenticate(null));
    }

    @Test
    void refusesAShortKey() {
        assertThrows(IllegalStateException.class, () -> new ProducerAuth(gate(false, Map.of("shop", producer("short",
                null)))));
    }

    @Test
    void knowsProducersByKeyAndChecksTheirTypes() {
        ProducerAuth auth = new ProducerAuth(gate(false, Map.of("shop", producer("shop-key-0123456789", List.of("a.b")),
                "crm", producer("crm-key-0123456789ab", null))));
        assertEquals("shop", auth.authenticate("Bearer shop-key-0123456789"));
        assertEquals("crm", auth.authenticate("Bearer crm-key-0123456789ab"));
        assertEquals(401, assertThrows(HttpError.class, () -> auth.authenticate(null)).status());
        assertEquals(401, assertThrows(HttpError.class, () -> auth.authenticate("Bearer nope")).status());
        assertEquals(401, assertThrows(HttpError.class, () -> auth.authenticate("Basic c2hvcA==")).status());
        auth.authorize("shop", "a.b", null);
        auth.authorize("crm", "anything", null);
        assertEquals(403, assertThrows(HttpError.class, () -> auth.authorize("shop", "c.d", 2)).status());
    }

    private static EventlineConfig.Producer producer(String key, List<String> types) {
        return new EventlineConfig.Producer() {
            @Override
            public String key() {
                return key;
            }

            @Override
            public Optional<List<String>> types() {
                return Optional.ofNullable(types);
            }
        };
    }

    private static EventlineConfig.Gate gate(boolean open, Map<String, EventlineConfig.Producer> producers) {
        return new EventlineConfig.Gate() {
            @Override
            public boolean enabled() {
                return true;
            }

            @Override
            public int maxEventBytes() {
                return 262_144;
            }

            @Override
            public int maxRequestBytes() {
                return 4_194_304;
            }

            @Override
            public int maxBatchEvents() {
                return 1000;
            }

            @Override
            public Duration confirmTimeout() {
                return Duration.ofSeconds(10);
            }

            @Override
            public boolean open() {
                return open;
            }

            @Override
            public Map<String, EventlineConfig.Producer> producers() {
                return producers;
            }

            @Override
            public Duration maxDelay() {
                return Duration.ofSeconds(2);
            }

            @Override
            public int maxDelayed() {
                return 100;
            }

            @Override
            public Duration maxRetryAfter() {
                return Duration.ofSeconds(60);
            }
        };
    }
}
