package dev.eventline.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.rabbitmq.client.AMQP;

import dev.eventline.broker.EventCodec;
import dev.eventline.topology.TopologySpec;

/** The one writer and reader of a failed event's history headers. */
class DeadLetterFormatTest {

    private static final Instant T0 = Instant.parse("2026-11-30T10:00:00Z");
    private static final Instant T1 = Instant.parse("2026-11-30T10:00:05Z");

    private static AMQP.BasicProperties props(Map<String, Object> headers) {
        return new AMQP.BasicProperties.Builder().messageId("e1").type("t").headers(headers).build();
    }

    @Test
    void aHistoryIsReadBackAsWrittenWithoutTheBrokersOwnHeaders() {
        Map<String, Object> original = new HashMap<>(Map.of(EventCodec.PARTITION_KEY, "k", "x-delivery-count", 3L,
                "x-first-death-reason", "delivery_limit"));
        DeadLetters.Failure failure = new DeadLetters.Failure("retries exhausted",
                new IllegalStateException("x".repeat(5000)), 5, T0, T1);
        Map<String, Object> headers = DeadLetterFormat.withHistory(props(original),
                DeadLetterFormat.History.of("orders-1", failure));
        assertFalse(headers.containsKey("x-delivery-count"));
        assertFalse(headers.containsKey("x-first-death-reason"));
        assertEquals("k", headers.get(EventCodec.PARTITION_KEY));
        DeadLetterFormat.Read read = DeadLetterFormat.read(props(headers));
        assertEquals("retries exhausted", read.reason());
        assertEquals(5, read.attempts());
        assertEquals("orders-1", read.originalQueue());
        assertEquals(T0.toString(), read.firstFailure());
        assertEquals(T1.toString(), read.lastFailure());
        assertEquals(IllegalStateException.class.getName(), read.errorClass());
        assertEquals(DeadLetterFormat.MAX_MESSAGE, read.errorMessage().length(), "the message is cut");
    }

    @Test
    void aLaterFailureKeepsTheFirstFailureAndDropsAnOldReasonWhenItHasNone() {
        Map<String, Object> earlier = DeadLetterFormat.withHistory(props(Map.of()),
                new DeadLetterFormat.History("first", 1, "q-0", T0, T0, null, null));
        Map<String, Object> later = DeadLetterFormat.withHistory(props(earlier),
                new DeadLetterFormat.History(null, 2, "q-0", T1, T1, null, null));
        assertEquals(T0.toString(), later.get(DeadLetterFormat.FIRST_FAILURE));
        assertEquals(T1.toString(), later.get(DeadLetterFormat.LAST_FAILURE));
        assertNull(later.get(DeadLetterFormat.REASON));
    }

    @Test
    void whatTheBrokerDeadLetteredItselfIsReadFromItsDeathRecord() {
        Map<String, Object> death = Map.of("reason", "delivery_limit", "queue", "orders-2");
        DeadLetterFormat.Read read = DeadLetterFormat.read(props(Map.of("x-death", List.of(death))));
        assertEquals("broker: delivery_limit", read.reason());
        assertEquals("orders-2", read.originalQueue());
        assertEquals("unknown", DeadLetterFormat.read(props(Map.of("x-death", "garbage"))).reason());
        assertEquals("unknown", DeadLetterFormat.read(new AMQP.BasicProperties()).reason());
    }

    @Test
    void aReplayDropsEveryHistoryKeepsTheKeyAndCountsItself() {
        Map<String, Object> failed = DeadLetterFormat.withHistory(
                props(new HashMap<>(Map.of(EventCodec.PARTITION_KEY, "k", "tenant", "acme",
                        TopologySpec.DELAY_LEVEL, "2", DeadLetterFormat.REPLAYS, 1))),
                new DeadLetterFormat.History("retries exhausted", 5, "q-0", T0, T1, "E", "m"));
        failed.put("x-death", List.of());
        Map<String, Object> replayed = DeadLetterFormat.replayed(props(failed));
        assertEquals("k", replayed.get(EventCodec.PARTITION_KEY));
        assertEquals("acme", replayed.get("tenant"));
        assertEquals(2L, replayed.get(DeadLetterFormat.REPLAYS));
        assertTrue(replayed.get(EventCodec.ACCEPTED_AT) instanceof Long);
        assertTrue(replayed.keySet().stream().noneMatch(k -> k.startsWith("x-")), replayed.toString());
        assertEquals(List.of(), replayed.keySet().stream().filter(k -> k.startsWith("eventline-")
                && !k.equals(DeadLetterFormat.REPLAYS) && !k.equals(EventCodec.PARTITION_KEY)
                && !k.equals(EventCodec.ACCEPTED_AT)).toList());
    }
}
