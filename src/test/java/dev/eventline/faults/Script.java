package dev.eventline.faults;

/**
 * What a test function does with one event (its data).
 *
 * @param failTimes       the first calls that throw (a retryable failure)
 * @param failUntilFixed  throw until the test marks the event fixed in the {@link Ledger}
 * @param refuse          throw {@link Refused}, listed as non-retryable in the function's description
 * @param nonRetryable    throw {@code NonRetryableException}
 * @param holdOnCall      on this call (1-based), wait until the test releases the event
 * @param ignoreInterrupt while held, ignore interruption (a handler stuck in uninterruptible work)
 * @param stallMs         on the first call, stall this long (interruptible)
 */
public record Script(int failTimes, boolean failUntilFixed, boolean refuse, boolean nonRetryable, int holdOnCall,
        boolean ignoreInterrupt, long stallMs) {

    public static Script ok() {
        return new Script(0, false, false, false, 0, false, 0);
    }

    public static Script failing(int times) {
        return new Script(times, false, false, false, 0, false, 0);
    }

    public static Script brokenUntilFixed() {
        return new Script(0, true, false, false, 0, false, 0);
    }

    public Script holding(int call, boolean ignoringInterrupt) {
        return new Script(failTimes, failUntilFixed, refuse, nonRetryable, call, ignoringInterrupt, stallMs);
    }
}
