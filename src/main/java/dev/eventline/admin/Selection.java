package dev.eventline.admin;

import java.util.Locale;
import java.util.Set;

/**
 * Which dead-lettered events an operation applies to: listed ids, and/or events matching every given
 * criterion (exact type, exact partition key, text found in the reason, error class or error message).
 * {@code all} selects every event and must be said explicitly: an empty selection selects nothing.
 */
public record Selection(Set<String> ids, String type, String key, String error, boolean all) {

    public boolean isEmpty() {
        return !all && ids.isEmpty() && type == null && key == null && error == null;
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
                        || contains(e.errorMessage(), error));
    }

    private static boolean contains(String text, String part) {
        return text != null && text.toLowerCase(Locale.ROOT).contains(part.toLowerCase(Locale.ROOT));
    }
}
