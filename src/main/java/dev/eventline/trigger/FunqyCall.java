package dev.eventline.trigger;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.quarkus.funqy.knative.events.CloudEvent;
import io.quarkus.funqy.knative.events.CloudEventBuilder;
import io.quarkus.funqy.runtime.ApplicationException;
import io.quarkus.funqy.runtime.FunctionInvoker;
import io.quarkus.funqy.runtime.FunqyServerRequest;
import io.quarkus.funqy.runtime.FunqyServerResponse;
import io.quarkus.funqy.runtime.RequestContext;
import io.quarkus.funqy.runtime.RequestContextImpl;
import io.smallrye.mutiny.Uni;

/**
 * One call of a {@code @Funq} method for one structured CloudEvent: the event's data becomes the method's
 * input, and the event itself is available as {@code @Context CloudEvent}, exactly as under Funqy's Knative
 * binding.
 */
final class FunqyCall implements FunqyServerRequest, FunqyServerResponse {

    private static final Set<String> CORE = Set.of("specversion", "id", "source", "type", "subject", "time",
            "dataschema", "datacontenttype", "data", "data_base64");

    private final RequestContextImpl context = new RequestContextImpl();
    private final FunctionInvoker invoker;
    private final Object input;
    private Uni<?> output;

    /** @throws IllegalArgumentException when the data does not fit the method's input type (never retried) */
    FunqyCall(FunctionInvoker invoker, ObjectNode event, ObjectMapper json) {
        this.invoker = invoker;
        this.input = invoker.hasInput() ? input(invoker, event, json) : null;
        context.setContextData(CloudEvent.class, cloudEvent(event));
    }

    /**
     * @return normally when the method returned
     * @throws Throwable what the method threw
     */
    void run(Duration timeout) throws Throwable {
        try {
            invoker.invoke(this, this);
            if (Uni.class.isAssignableFrom(invoker.getMethod().getReturnType())) {
                output.await().atMost(timeout);
            } else {
                // a synchronous method's result is already here: taken without a wait, which an interruption the
                // method outlived (its timeout's) would fail although the method returned
                output.subscribeAsCompletionStage().toCompletableFuture().join();
            }
        } catch (ApplicationException e) {
            throw e.getCause() != null ? e.getCause() : e;
        } catch (CompletionException e) {
            Throwable failure = e.getCause() != null ? e.getCause() : e;
            throw failure instanceof ApplicationException a && a.getCause() != null ? a.getCause() : failure;
        }
    }

    private static Object input(FunctionInvoker invoker, ObjectNode event, ObjectMapper json) {
        try {
            if (event.hasNonNull("data_base64")) {
                byte[] bytes = Base64.getDecoder().decode(event.get("data_base64").asText());
                return invoker.getInputType() == byte[].class ? bytes
                        : json.readValue(bytes, json.constructType(invoker.getInputType()));
            }
            JsonNode data = event.get("data");
            return json.convertValue(data, json.constructType(invoker.getInputType()));
        } catch (Exception e) {
            throw new IllegalArgumentException("data does not fit " + invoker.getInputType().getTypeName()
                    + " of function " + invoker.getName() + ": " + e.getMessage(), e);
        }
    }

    private static CloudEvent<?> cloudEvent(ObjectNode event) {
        Map<String, String> extensions = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = event.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> a = it.next();
            if (!CORE.contains(a.getKey())) {
                extensions.put(a.getKey(), a.getValue().asText());
            }
        }
        return CloudEventBuilder.create()
                .specVersion(text(event, "specversion"))
                .id(text(event, "id"))
                .source(text(event, "source"))
                .type(text(event, "type"))
                .subject(text(event, "subject"))
                .time(time(event))
                .dataSchema(text(event, "dataschema"))
                .extensions(extensions)
                .build();
    }

    /** @throws IllegalArgumentException for a time that is not RFC 3339 (it may come from around the gate) */
    private static OffsetDateTime time(ObjectNode event) {
        if (!event.hasNonNull("time")) {
            return null;
        }
        try {
            return OffsetDateTime.parse(event.get("time").asText());
        } catch (java.time.DateTimeException e) {
            throw new IllegalArgumentException("time '" + abbreviated(event.get("time").asText())
                    + "' is not an RFC 3339 timestamp", e);
        }
    }

    private static String abbreviated(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "…";
    }

    /** @return the attribute as text, null when absent or null */
    static String text(ObjectNode event, String name) {
        return event.hasNonNull(name) ? event.get(name).asText() : null;
    }

    @Override
    public RequestContext context() {
        return context;
    }

    @Override
    public Object extractInput(Class type) {
        return input;
    }

    @Override
    public Uni<?> getOutput() {
        return output;
    }

    @Override
    public void setOutput(Uni<?> output) {
        this.output = output;
    }
}
