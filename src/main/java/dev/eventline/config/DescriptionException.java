package dev.eventline.config;

/** A function description that cannot work; the message names the file and the field, and says what to fix. */
public class DescriptionException extends RuntimeException {

    public DescriptionException(String source, String field, String problem) {
        super(source + ": " + (field == null ? "" : "field '" + field + "': ") + problem);
    }
}
