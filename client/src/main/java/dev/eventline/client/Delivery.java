package dev.eventline.client;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

/**
 * Sends one batch until every event in it is settled, acting on each answer:
 * <ul>
 * <li>{@code 202}: all delivered;</li>
 * <li>{@code 503} with a valid {@code failed} list: the others delivered, exactly the listed ones sent again;</li>
 * <li>{@code 429}, {@code 503} without (a valid) list, another {@code 5xx}, {@code 408}, no answer: all sent
 * again, after {@code Retry-After} (429 and 503) or backoff;</li>
 * <li>{@code 400}, {@code 403}, {@code 413} naming one event ({@code index}): that event rejected, the others
 * sent again at once (the gate published none of them); without an index the batch is split in halves until
 * the refused events stand alone, and an event alone that is still refused is rejected;</li>
 * <li>{@code 401} and every other {@code 4xx}, or a status outside the contract: all rejected.</li>
 * </ul>
 * Every event of a batch has its own partition key ({@link KeyedBuffer}), so resending any subset, in any
 * split, keeps the order per key.
 */
final class Delivery {

    private static final System.Logger LOG = System.getLogger(EventlineClient.class.getName());

    private final GateTransport transport;
    private final Settlement settlement;
    private final Backoff backoff;

    Delivery(GateTransport transport, Settlement settlement, Backoff backoff) {
        this.transport = transport;
        this.settlement = settlement;
        this.backoff = backoff;
    }

    /** Events of a batch still to send, and how often they were sent in vain. */
    private static final class Part {
        List<Pending> events;
        int attempts;

        Part(List<Pending> events) {
            this.events = new ArrayList<>(events);
        }
    }

    /** @throws InterruptedException when the client gives up (close); the events stay in the buffer */
    void deliver(List<Pending> batch) throws InterruptedException {
        Deque<Part> parts = new ArrayDeque<>();
        parts.push(new Part(batch));
        while (!parts.isEmpty()) {
            Part part = parts.pop();
            Answer answer = transport.post(part.events);
            switch (answer.kind()) {
                case ACCEPTED -> settlement.delivered(part.events);
                case RETRY -> retry(part, answer, parts);
                case REFUSED -> refused(part, answer, parts);
                case UNEXPECTED -> settlement.rejected(part.events, "answer outside the gate's contract (is the "
                        + "URL the gate's /events?): " + answer.reason());
            }
        }
    }

    private void retry(Part part, Answer answer, Deque<Part> parts) throws InterruptedException {
        List<Pending> again = answer.notAccepted(part.events);
        if (again.size() < part.events.size()) {
            List<Pending> accepted = new ArrayList<>(part.events);
            accepted.removeAll(again);
            settlement.delivered(accepted);
        }
        (answer.throttled() ? settlement.throttled : settlement.unavailable).increment();
        part.events = new ArrayList<>(again);
        Duration wait = backoff.before(++part.attempts, answer.retryAfter());
        LOG.log(Level.DEBUG, "eventline client: {0}; sending {1} event(s) again in {2} ms", answer.reason(),
                again.size(), wait.toMillis());
        TimeUnit.NANOSECONDS.sleep(wait.toNanos());
        parts.push(part);
    }

    private void refused(Part part, Answer answer, Deque<Part> parts) {
        OptionalInt index = answer.refusedIndex(part.events.size());
        if (index.isPresent()) {
            settlement.rejected(List.of(part.events.remove(index.getAsInt())), answer.reason());
            if (!part.events.isEmpty()) {
                parts.push(part);
            }
        } else if (answer.perEvent() && part.events.size() > 1) {
            int half = part.events.size() / 2;
            parts.push(new Part(part.events.subList(half, part.events.size())));
            parts.push(new Part(part.events.subList(0, half)));
        } else {
            settlement.rejected(part.events, answer.reason());
        }
    }
}
