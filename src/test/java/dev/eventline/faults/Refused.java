package dev.eventline.faults;

/** A business refusal that the flaky function's description lists under {@code retry.nonRetryable}. */
public class Refused extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public Refused(String message) {
        super(message);
    }
}
