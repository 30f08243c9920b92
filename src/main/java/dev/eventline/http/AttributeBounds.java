package dev.eventline.http;

/**
 * Limits of the attributes that leave the event: those that become AMQP fields, where the broker counts
 * UTF-8 bytes, and {@code source}, which consumers keep in their dedup key. Checked before anything is
 * published, so that no event reaches a publisher that cannot encode it.
 */
public final class AttributeBounds {

    /** AMQP short strings (message-id, type, routing key): at most 255 bytes of UTF-8. */
    public static final int SHORT_STRING_BYTES = 255;
    /** {@code source}: part of the dedup key consumers keep per event ({@code source} + {@code id}). */
    public static final int SOURCE_BYTES = 1024;
    /** Longest piece of a caller's value quoted back in an error message. */
    private static final int QUOTED = 64;

    private AttributeBounds() {
    }

    /**
     * @param becomes what the value becomes, for the message ("the AMQP message-id")
     * @throws HttpError 400 naming the attribute when the value is longer than {@code maxBytes} in UTF-8 or is
     *                   not valid Unicode (an unpaired surrogate, which UTF-8 cannot carry)
     */
    public static void check(String attribute, String value, int maxBytes, String becomes, Integer index) {
        int bytes = utf8Length(value);
        if (bytes < 0) {
            throw HttpError.invalid("attribute '" + attribute + "' is not valid Unicode (it holds an unpaired "
                    + "surrogate, e.g. \\ud800)", index, attribute);
        }
        if (bytes > maxBytes) {
            throw HttpError.invalid("attribute '" + attribute + "' is " + bytes + " bytes in UTF-8; at most " + maxBytes
                    + " are allowed, as it becomes " + becomes, index, attribute);
        }
    }

    /** @return the length of the text in UTF-8, or -1 when it holds an unpaired surrogate */
    static int utf8Length(String s) {
        int bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (!Character.isSurrogate(c)) {
                bytes += 3;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                return -1;
            }
        }
        return bytes;
    }

    /** A caller's value for an error message: quoted, and cut when long. */
    public static String quoted(String value) {
        return "'" + cut(value) + "'";
    }

    /** A caller's value for an error message, cut when long. */
    public static String cut(String value) {
        if (value.length() <= QUOTED) {
            return value;
        }
        int end = Character.isHighSurrogate(value.charAt(QUOTED - 1)) ? QUOTED - 1 : QUOTED;
        return value.substring(0, end) + "…";
    }
}
