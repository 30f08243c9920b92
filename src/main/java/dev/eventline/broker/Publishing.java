package dev.eventline.broker;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.enterprise.context.ApplicationScoped;

/** The process's confirming publisher, once the broker has been reached; empty while it cannot be. */
@ApplicationScoped
public class Publishing {

    private final AtomicReference<ConfirmingPublisher> current = new AtomicReference<>();

    public Optional<ConfirmingPublisher> publisher() {
        return Optional.ofNullable(current.get());
    }

    public void set(ConfirmingPublisher publisher) {
        ConfirmingPublisher old = current.getAndSet(publisher);
        if (old != null && old != publisher) {
            old.close();
        }
    }
}
