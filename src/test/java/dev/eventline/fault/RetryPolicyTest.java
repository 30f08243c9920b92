package dev.eventline.fault;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;

import org.junit.jupiter.api.Test;

import dev.eventline.config.DescriptionParser;

/** The one non-retryable rule both triggers use (docs/failure-model.md, docs/deploying.md's 422). */
class RetryPolicyTest {

    /** A refusal a description lists, and a subclass of it. */
    static class Refused extends IllegalStateException {
        Refused(String message) {
            super(message);
        }
    }

    static final class RefusedHarder extends Refused {
        RefusedHarder() {
            super("harder");
        }
    }

    private final RetryPolicy policy = RetryPolicy.of(new DescriptionParser().parse("f.yaml",
            "name: billing\neventTypes: [invoice.issued]\nretry:\n  nonRetryable: [" + Refused.class.getName() + "]\n",
            null));

    @Test
    void aListedClassItsSubclassesAndNonRetryableExceptionAreNotRetried() {
        assertTrue(policy.nonRetryable(new Refused("no")));
        assertTrue(policy.nonRetryable(new RefusedHarder()));
        assertTrue(policy.nonRetryable(new NonRetryableException("no")));
        assertFalse(policy.nonRetryable(new IllegalStateException("a superclass of the listed one is retried")));
        assertFalse(policy.nonRetryable(new UncheckedIOException(new IOException("timeout"))));
    }

    @Test
    void aRefusalWrappedByAFrameworkOrTheHandlerIsStillARefusal() {
        assertTrue(policy.nonRetryable(new RuntimeException("wrapped", new RuntimeException(new RefusedHarder()))));
        assertTrue(policy.nonRetryable(new java.util.concurrent.CompletionException(new NonRetryableException("no"))));
    }

    @Test
    void aCauseChainWithACycleEnds() {
        RuntimeException a = new RuntimeException("a");
        RuntimeException b = new RuntimeException("b", a);
        a.initCause(b);
        assertFalse(policy.nonRetryable(a));
    }
}
