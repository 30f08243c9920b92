package dev.eventline.gate;

import java.util.HashSet;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import dev.eventline.config.EventlineConfig.TriggerSettings.Mode;
import dev.eventline.config.EventlineConfig;
import dev.eventline.http.EventReader;
import dev.eventline.http.HttpError;
import io.quarkus.funqy.knative.events.CloudEventMapping;
import io.quarkus.funqy.runtime.FunctionInvoker;
import io.quarkus.funqy.runtime.FunctionRecorder;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * With the queue trigger ({@code eventline.trigger.mode=queue}, the default) events reach the functions only
 * through their partitions, so nothing may call a handler over HTTP: Funqy's Knative binding would run one for
 * {@code /}, {@code /<function>} or any request with a {@code ce-id} header, bypassing the producer key, type
 * grants, per-key order and dedup. This screen runs first of all handlers and lets through only:
 * <ul>
 * <li>{@code /events} (the gate, when enabled), {@code /admin/...} and the console's three files (when admin is
 * enabled), {@code /q/...} (health, metrics);</li>
 * <li>a plain {@code GET /<report>}: a {@code @Funq} method that takes no input and maps no event type (e.g.
 * {@code /orderReport}), asked without a body and without CloudEvent headers, which Funqy answers by
 * calling that method and nothing else.</li>
 * </ul>
 * Everything else gets {@code 404} with a JSON body ({@code http-trigger-off} for a CloudEvent, else
 * {@code not-found}), before its body is read.
 */
@ApplicationScoped
public class QueueModeScreen {

    private static final Logger LOG = Logger.getLogger(QueueModeScreen.class);

    @Inject
    EventlineConfig config;

    /** The operator console's files (served with the admin routes; the console package serves them). */
    private static final Set<String> CONSOLE = Set.of("/console", "/console/", "/console/console.js",
            "/console/console.css");

    private Set<String> reports = Set.of();

    void register(@Observes Router router) {
        if (config.trigger().mode() != Mode.QUEUE) {
            return;
        }
        reports = reports();
        router.route().order(Integer.MIN_VALUE).handler(this::screen);
        LOG.debugf("queue mode: HTTP answers /events, /admin/..., /q/... and GET %s only", reports);
    }

    private void screen(RoutingContext ctx) {
        String path = ctx.normalizedPath();
        boolean gate = config.gate().enabled() && path.equals("/events");
        if ((gate && ctx.request().method() == HttpMethod.POST) || served(path) || report(ctx.request(), path)) {
            ctx.next();
        } else if (gate) {
            ctx.response().putHeader(HttpHeaders.ALLOW, "POST");
            HttpAnswers.send(ctx, 405, new HttpError(405, "method-not-allowed", "the gate takes events with POST "
                    + "/events").body());
        } else if (cloudEvent(ctx.request())) {
            HttpAnswers.send(ctx, 404, new HttpError(404, "http-trigger-off", "this instance runs the queue trigger "
                    + "(eventline.trigger.mode=queue): producers post events to the gate, POST /events")
                    .body());
        } else {
            HttpAnswers.send(ctx, 404, new HttpError(404, "not-found", "nothing is served at this path: producers "
                    + "post events to POST /events; functions take them from their partitions, not over HTTP "
                    + "(eventline.trigger.mode=queue)", null, null).body());
        }
    }

    /** What Funqy's binding would dispatch as a CloudEvent: a {@code ce-*} header or a CloudEvents media type. */
    private static boolean cloudEvent(HttpServerRequest request) {
        String mediaType = EventReader.mediaType(request.getHeader(HttpHeaders.CONTENT_TYPE));
        return (mediaType != null && mediaType.startsWith("application/cloudevents"))
                || request.headers().names().stream().anyMatch(h -> h.regionMatches(true, 0, "ce-", 0, 3));
    }

    private boolean served(String path) {
        return (config.admin().enabled() && (under(path, "/admin") || CONSOLE.contains(path))) || under(path, "/q");
    }

    private static boolean under(String path, String root) {
        return path.equals(root) || path.startsWith(root + "/");
    }

    private boolean report(HttpServerRequest request, String path) {
        return request.method() == HttpMethod.GET && path.length() > 1 && reports.contains(path.substring(1))
                && request.getHeader(HttpHeaders.CONTENT_TYPE) == null
                && request.getHeader(HttpHeaders.CONTENT_LENGTH) == null
                && request.getHeader(HttpHeaders.TRANSFER_ENCODING) == null && !cloudEvent(request);
    }

    /** Funqy functions that take no input and map no event type: read-only reports. */
    static Set<String> reports() {
        Set<String> names = new HashSet<>();
        if (FunctionRecorder.registry != null) {
            for (FunctionInvoker f : FunctionRecorder.registry.invokers()) {
                if (!f.hasInput() && f.getMethod().getAnnotation(CloudEventMapping.class) == null) {
                    names.add(f.getName());
                }
            }
        }
        return Set.copyOf(names);
    }
}
