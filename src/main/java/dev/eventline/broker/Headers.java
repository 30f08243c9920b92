package dev.eventline.broker;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.LongString;

/**
 * Reading AMQP headers, the one place that does it. A header of a message on our queues may have been
 * written by anyone who can publish there, so every reader here answers something sane for any value:
 * {@code null} or 0 where the value is absent or not what it should be, never an exception.
 */
public final class Headers {

    private Headers() {
    }

    /** @return the header, or null when the message has no such header */
    public static Object get(AMQP.BasicProperties properties, String name) {
        Map<String, Object> headers = properties.getHeaders();
        return headers == null ? null : headers.get(name);
    }

    /** @return the header as text (AMQP long strings arrive as bytes), or null when absent */
    public static String text(AMQP.BasicProperties properties, String name) {
        return textOf(get(properties, name));
    }

    /** @return the value as text (AMQP long strings arrive as bytes), or null for null */
    public static String textOf(Object v) {
        if (v instanceof LongString l) {
            return new String(l.getBytes(), StandardCharsets.UTF_8);
        }
        if (v instanceof byte[] b) {
            return new String(b, StandardCharsets.UTF_8);
        }
        return v == null ? null : v.toString();
    }

    /** @return the header as a count: 0 when absent, not a whole number or negative; capped at int's range */
    public static int count(AMQP.BasicProperties properties, String name) {
        return countOf(get(properties, name));
    }

    /** @return the value as a count: 0 when absent, not a whole number or negative; capped at int's range */
    public static int countOf(Object v) {
        if (v instanceof Number n) {
            return (int) Math.min(Integer.MAX_VALUE, Math.max(0, n.longValue()));
        }
        String text = textOf(v);
        if (text == null) {
            return 0;
        }
        try {
            return (int) Math.min(Integer.MAX_VALUE, Math.max(0, Long.parseLong(text.trim())));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** @return the header as an ISO-8601 instant, or null when absent or not one */
    public static Instant instant(AMQP.BasicProperties properties, String name) {
        String text = textOf(get(properties, name));
        try {
            return text == null ? null : Instant.parse(text);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** @return the header as epoch milliseconds, or -1 when absent or not a number */
    public static long millis(AMQP.BasicProperties properties, String name) {
        return get(properties, name) instanceof Number n ? n.longValue() : -1;
    }
}
