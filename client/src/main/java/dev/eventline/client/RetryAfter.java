package dev.eventline.client;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * The {@code Retry-After} header (RFC 9110): delay seconds, or an HTTP-date. A value that is neither (a
 * negative number, garbage) is ignored; a date in the past means now; a huge value is capped by the caller.
 */
public final class RetryAfter {

    /** More digits than this are treated as "very long" rather than parsed. */
    private static final int MAX_DIGITS = 12;

    private RetryAfter() {
    }

    /** @return the wait the header asks for, never negative; empty when absent or unreadable */
    public static Optional<Duration> parse(String header, Instant now) {
        if (header == null || header.isBlank()) {
            return Optional.empty();
        }
        String value = header.strip();
        if (value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return Optional.of(value.length() > MAX_DIGITS ? Duration.ofSeconds(Long.MAX_VALUE / 1_000_000_000L)
                    : Duration.ofSeconds(Long.parseLong(value)));
        }
        try {
            Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            return Optional.of(at.isAfter(now) ? Duration.between(now, at) : Duration.ZERO);
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }
}
