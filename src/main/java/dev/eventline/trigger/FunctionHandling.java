package dev.eventline.trigger;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.eventline.broker.EventCodec;
import dev.eventline.broker.FunctionProgress;
import dev.eventline.fault.Dedup;
import dev.eventline.metrics.PipelineMetrics;

/**
 * What the consumers of one function's partitions work with in this instance, shared by all of them: the
 * handler methods and their calls, what was done and tried, the metrics and progress, and the thread that
 * sends batched acks no later event carried out ({@link PartitionAcks#ACK_DELAY}), and the threads that carry
 * events through their calls with key concurrency ({@link KeyedDispatch}; none start without it).
 */
record FunctionHandling(FunctionInvokers invokers, HandlerCalls calls, Dedup dedup, AttemptLog attemptLog,
        PipelineMetrics metrics, ObjectMapper json, EventCodec codec, FunctionProgress progress,
        ScheduledExecutorService flusher, ExecutorService workers) {
}
