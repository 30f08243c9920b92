package dev.eventline.trigger;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.jboss.logging.Logger;

import dev.eventline.fault.Dedup;
import dev.eventline.metrics.PipelineMetrics;
import dev.eventline.util.Daemons;

/**
 * Runs handler calls on threads of their own, so a call that overruns its timeout can be abandoned: the
 * partition counts it as a failed attempt and moves on, while the call is interrupted. An abandoned call
 * can never ack (only the partition's consumer acks) and never runs beside another attempt of the same
 * event: until it ends, further attempts of that event fail without calling the handler. If it ends
 * successfully after all, its event id is recorded as processed, so a later attempt or redelivery is skipped
 * as a duplicate. Abandoned calls that ignore interruption keep their thread: {@code concurrency} of them at
 * most; beyond that, new calls wait for a thread.
 * <p>
 * With key concurrency each event already has a thread of its own, and its key's next event must wait for the
 * handler to end anyway: the call runs on that thread, interrupted when it overruns, and is never abandoned
 * ({@link #runHere}).
 */
final class HandlerCalls {

    private static final Logger LOG = Logger.getLogger(HandlerCalls.class);

    /** A body of work that may throw anything a handler throws. */
    interface Body {
        void run() throws Throwable;
    }

    /** The handler is still running from an earlier, timed-out attempt of the same event. */
    static final class StillRunning extends Exception {
        private static final long serialVersionUID = 1L;

        StillRunning(String id) {
            super("an earlier attempt of event " + id + " timed out and has not ended yet");
        }
    }

    /** The call overran its timeout and was abandoned. */
    static final class HandlerTimeout extends TimeoutException {
        private static final long serialVersionUID = 1L;

        HandlerTimeout(Duration timeout) {
            super("handler call exceeded its timeout of " + timeout.toMillis() + " ms and was interrupted");
        }
    }

    private final String function;
    private final ExecutorService threads;
    private final Semaphore slots;
    private final Map<String, Boolean> running = new ConcurrentHashMap<>();
    private final Dedup dedup;
    private final PipelineMetrics metrics;
    /** With key concurrency: calls run on the caller's thread, and this interrupts those that overrun. */
    private final ScheduledThreadPoolExecutor alarms;

    /**
     * @param keyed whether the function runs keys at once: each event already has a thread of its own, which
     *              runs the handler itself ({@link #runHere})
     */
    HandlerCalls(String function, int concurrency, boolean keyed, Dedup dedup, PipelineMetrics metrics) {
        this.function = function;
        this.slots = new Semaphore(2 * concurrency);
        this.dedup = dedup;
        this.metrics = metrics;
        this.threads = Executors.newCachedThreadPool(Daemons.named("eventline-" + function + "-handler"));
        if (keyed) {
            this.alarms = new ScheduledThreadPoolExecutor(1, Daemons.named("eventline-" + function + "-timeouts"));
            this.alarms.setRemoveOnCancelPolicy(true);
        } else {
            this.alarms = null;
        }
    }

    /**
     * Runs one attempt and waits for it, at most {@code timeout}.
     *
     * @param key     the event's dedup key
     * @param stopped polled while waiting for a free thread; true gives up (the event goes back unacked)
     * @return false when stopping before the call could start
     * @throws StillRunning    an earlier attempt of this event is still running; the handler was not called
     * @throws HandlerTimeout  the call overran and was abandoned
     * @throws Throwable       what the handler threw
     */
    boolean run(String key, String id, Duration timeout, BooleanSupplier stopped, Body body) throws Throwable {
        if (running.containsKey(key)) {
            throw new StillRunning(id);
        }
        while (!slots.tryAcquire(200, TimeUnit.MILLISECONDS)) {
            if (stopped.getAsBoolean()) {
                return false;
            }
        }
        running.put(key, Boolean.TRUE);
        if (alarms != null) {
            return runHere(key, id, timeout, body);
        }
        Call call = new Call(key, id, body);
        Future<?> future;
        try {
            future = threads.submit(call);
        } catch (RuntimeException e) {
            running.remove(key);
            slots.release();
            throw e;
        }
        try {
            future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (ExecutionException e) {
            throw e.getCause();
        } catch (TimeoutException e) {
            if (!call.abandon()) {
                return finished(future); // it ended just as the wait did
            }
            future.cancel(true);
            call.releaseUnstarted();
            metrics.timedOut(function);
            throw new HandlerTimeout(timeout);
        } catch (InterruptedException e) {
            if (call.abandon()) {
                future.cancel(true);
                call.releaseUnstarted();
            }
            Thread.currentThread().interrupt();
            throw e;
        }
    }

    private static boolean finished(Future<?> future) throws Throwable {
        try {
            future.get();
            return true;
        } catch (ExecutionException e) {
            throw e.getCause();
        }
    }

    /**
     * With key concurrency: runs the call on this thread (the event's own, so no hand-off), interrupted once it
     * overruns {@code timeout}. The key's next event waits for it in any case, so nothing is abandoned: a call
     * that ends by throwing after the interruption is a timed-out attempt; one that ignores the interruption and
     * returns normally has applied its effects, and its success stands (counted as a late completion).
     */
    private boolean runHere(String key, String id, Duration timeout, Body body) throws Throwable {
        Thread self = Thread.currentThread();
        AtomicInteger state = new AtomicInteger(); // 0 running, 1 ended in time, 2 interrupted by its timeout
        ScheduledFuture<?> alarm;
        try {
            alarm = alarms.schedule(() -> {
                synchronized (state) {
                    if (state.compareAndSet(0, 2)) {
                        self.interrupt();
                    }
                }
            }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RuntimeException e) {
            running.remove(key);
            slots.release();
            throw e;
        }
        try {
            body.run();
            if (state.get() == 2) {
                metrics.timedOut(function);
                metrics.lateCompletion(function);
                LOG.warnf("function %s event %s: the handler returned after its timeout of %d ms, ignoring the "
                        + "interruption; its success stands", function, id, timeout.toMillis());
            }
            return true;
        } catch (Throwable t) {
            if (state.get() == 2) {
                // what the interrupted handler threw is not the cause: a timeout is retried, whatever it threw
                LOG.debugf(t, "function %s event %s: the handler ended on its timeout's interruption", function, id);
                metrics.timedOut(function);
                throw new HandlerTimeout(timeout);
            }
            throw t;
        } finally {
            alarm.cancel(false);
            synchronized (state) {
                if (!state.compareAndSet(0, 1)) {
                    Thread.interrupted(); // the timeout's interruption, not the caller's: cleared
                }
            }
            running.remove(key);
            slots.release();
        }
    }

    void shutdown() {
        threads.shutdownNow();
        if (alarms != null) {
            alarms.shutdownNow();
        }
    }

    private final class Call implements java.util.concurrent.Callable<Void> {
        private final String key;
        private final String id;
        private final Body body;
        /** 0 running, 1 ended while its attempt waited, 2 abandoned by its attempt */
        private final AtomicInteger state = new AtomicInteger();
        /** Set by whichever comes first: the call beginning, or its cancellation before it began. */
        private final AtomicBoolean claimed = new AtomicBoolean();

        Call(String key, String id, Body body) {
            this.key = key;
            this.id = id;
            this.body = body;
        }

        /** @return true when abandoned; false when the call had already ended */
        boolean abandon() {
            return state.compareAndSet(0, 2);
        }

        /** Cancelled: if it had not begun, it never will, and what it holds is released now. */
        void releaseUnstarted() {
            if (claimed.compareAndSet(false, true)) {
                release();
            }
        }

        private void release() {
            running.remove(key);
            slots.release();
        }

        @Override
        public Void call() throws Exception {
            if (!claimed.compareAndSet(false, true)) {
                return null; // cancelled before it began: released already
            }
            boolean ok = false;
            try {
                body.run();
                ok = true;
                return null;
            } catch (Exception | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new ExecutionException(t);
            } finally {
                if (!state.compareAndSet(0, 1)) {
                    if (ok) {
                        dedup.record(key);
                        metrics.lateCompletion(function);
                        LOG.warnf("function %s event %s: the handler finished after its timeout; its effects stand "
                                + "and the event id is recorded, so no attempt or redelivery calls it again",
                                function, id);
                    } else {
                        LOG.infof("function %s event %s: the abandoned handler call ended", function, id);
                    }
                }
                release();
            }
        }
    }
}
