package dev.eventline.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.impl.LongStringHelper;

/** Headers of a message on our queues are whatever its publisher wrote: every reader answers sanely. */
class HeadersTest {

    private static AMQP.BasicProperties with(String name, Object value) {
        Map<String, Object> headers = new HashMap<>();
        headers.put(name, value);
        return new AMQP.BasicProperties.Builder().headers(headers).build();
    }

    private static int count(Object value) {
        return Headers.count(with("n", value), "n");
    }

    @Test
    void countsAreWholeNonNegativeNumbersWhateverTheHeaderHolds() {
        assertEquals(3, count(3));
        assertEquals(3, count(3L));
        assertEquals(7, count(LongStringHelper.asLongString("7")));
        assertEquals(7, count(" 7 ".getBytes(StandardCharsets.UTF_8)));
        assertEquals(0, count(-5));
        assertEquals(0, count("-5"));
        assertEquals(Integer.MAX_VALUE, count(Long.MAX_VALUE));
        assertEquals(Integer.MAX_VALUE, count("99999999999"));
        assertEquals(0, count("three"));
        assertEquals(0, count(List.of(1, 2)));
        assertEquals(0, Headers.count(with("other", 3), "n"));
        assertEquals(0, Headers.count(new AMQP.BasicProperties(), "n"));
    }

    @Test
    void textAndInstantsReadLongStringsAndRefuseNothingWithAnException() {
        assertEquals("queue-0", Headers.text(with("q", LongStringHelper.asLongString("queue-0")), "q"));
        assertNull(Headers.text(new AMQP.BasicProperties(), "q"));
        Instant at = Instant.parse("2026-11-30T12:00:00Z");
        assertEquals(at, Headers.instant(with("t", at.toString()), "t"));
        assertEquals(at, Headers.instant(with("t", LongStringHelper.asLongString(at.toString())), "t"));
        assertNull(Headers.instant(with("t", "yesterday"), "t"));
        assertNull(Headers.instant(with("t", 42), "t"));
        assertEquals(1234L, Headers.millis(with("m", 1234L), "m"));
        assertEquals(-1L, Headers.millis(with("m", "1234"), "m"));
        assertEquals(-1L, Headers.millis(new AMQP.BasicProperties(), "m"));
    }
}
