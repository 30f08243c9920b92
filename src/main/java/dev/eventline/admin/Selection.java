package dev.eventline.admin;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Set;

/**
 * Which dead-lettered events an operation applies to: listed ids, and/or events matching every given
 * criterion (exact type, exact partition key, text found in the reason, error class or error message, last
 * failure at or after {@code since} and before {@code until}). {@code all} selects every event and must be said
 * explicitly: an empty selection selects nothing.
 */
public record Selection(Set<String> ids, String type, String key, String error, Instant since, Instant until,
        boolean all) {

    public Selection(Set<String> ids, String type, String key, String error, boolean all) {
        this(ids, type, key, error, null, null, all);
    }

    public boolean isEmpty() {
        return !all && ids.isEmpty() && type == null && key == null && error == null && since == null && until == null;
    }

    public boolean matches(DeadLetterEntry e) {
        if (all) {
            return true;
        }
        if (isEmpty()) {
            return false;
        }
        return (ids.isEmpty() || ids.contains(e.id()))
                && (type == null || type.equals(e.type()))
                && (key == null || key.equals(e.key()))
                && (error == null || contains(e.reason(), error) || contains(e.errorClass(), error)
                        || contains(e.errorMessage(), error))
                && within(e);
    }

    /** An event without a readable failure time (the broker dead-lettered it) matches no time window. */
    private boolean within(DeadLetterEntry e) {
        if (since == null && until == null) {
            return true;
        }
        Instant at = failedAt(e);
        return at != null && (since == null || !at.isBefore(since)) && (until == null || at.isBefore(until));
    }

    private static Instant failedAt(DeadLetterEntry e) {
        String text = e.lastFailure() != null ? e.lastFailure() : e.firstFailure();
        try {
            return text == null ? null : Instant.parse(text);
        } catch (DateTimeParseException ex) {
            return null;
        }
    }

    /**
     * @param field the request's name for it, for the error
     * @return the instant, or null for null or empty text
     * @throws IllegalArgumentException when it is not an ISO-8601 instant ({@code 2026-12-01T10:15:30Z})
     */
    public static Instant instant(String field, String text) {
        if (text == null || text.isEmpty()) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("'" + field + "' must be an ISO-8601 instant such as "
                    + "2026-12-01T10:15:30Z");
        }
    }

    private static boolean contains(String text, String part) {
        return text != null && text.toLowerCase(Locale.ROOT).contains(part.toLowerCase(Locale.ROOT));
    }
}
