package dev.eventline.console;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.eventline.config.EventlineConfig;
import dev.eventline.http.HttpAnswer;
import dev.eventline.http.HttpError;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The operator console (docs/console.md): a page at {@code /console} with its script and style, all served from
 * the application (no CDN, no build step), and its live feed, {@code GET /admin/console/stream}, behind the admin
 * token like every {@code /admin} route. The page holds no data: it asks for the token, then reads the feed and
 * calls the admin API with it.
 * <p>
 * The feed is server-sent events: one {@link ConsoleView} snapshot per {@link #PERIOD_MS}, built once and written
 * to every open feed (at most {@link #MAX_STREAMS}); none is built while no console watches. A console that does
 * not read fast enough skips snapshots (each one is the whole state) instead of having them buffered.
 */
@ApplicationScoped
public class ConsoleRoutes {

    private static final Logger LOG = Logger.getLogger(ConsoleRoutes.class);
    static final long PERIOD_MS = 1000;
    static final int MAX_STREAMS = 16;
    /** Scripts and styles from this origin only; data only from the feed and the admin API. */
    static final String POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            + "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    @Inject
    EventlineConfig config;
    @Inject
    ConsoleView view;
    @Inject
    ObjectMapper json;

    private static final long WARN_EVERY_NANOS = 60_000_000_000L;

    private final List<HttpServerResponse> streams = new CopyOnWriteArrayList<>();
    private final AtomicBoolean building = new AtomicBoolean();
    private long timer = -1;
    private volatile long lastWarning = System.nanoTime() - WARN_EVERY_NANOS;

    void register(@Observes Router router) {
        if (!config.admin().enabled()) {
            return; // no admin token, no console (AdminRoutes says so in the log)
        }
        file(router, "/console", "index.html", "text/html; charset=utf-8");
        router.get("/console/").order(-99).handler(ctx -> ctx.redirect("/console"));
        file(router, "/console/console.js", "console.js", "text/javascript; charset=utf-8");
        file(router, "/console/console.css", "console.css", "text/css; charset=utf-8");
        router.get("/admin/console/stream").order(-99).handler(this::stream);
        LOG.info("operator console at /console (admin token required)");
    }

    private static void file(Router router, String path, String name, String type) {
        Buffer content = Buffer.buffer(read("console/" + name));
        router.get(path).order(-99).handler(ctx -> ctx.response().putHeader("Content-Type", type)
                .putHeader("Content-Security-Policy", POLICY).putHeader("X-Content-Type-Options", "nosniff")
                .putHeader("Referrer-Policy", "no-referrer").putHeader("Cache-Control", "no-cache")
                .end(content));
    }

    private static byte[] read(String resource) {
        try (InputStream in = ConsoleRoutes.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the console's " + resource + " is missing from the application");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void stream(RoutingContext ctx) {
        HttpServerResponse response = ctx.response();
        synchronized (this) {
            streams.removeIf(HttpServerResponse::closed);
            if (streams.size() >= MAX_STREAMS) {
                HttpAnswer.refuse(ctx, HttpError.unavailable(MAX_STREAMS + " consoles are open already; close one, or "
                        + "try again later", 10));
                return;
            }
            streams.add(response);
        }
        response.setChunked(true).putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-store").putHeader("X-Accel-Buffering", "no");
        response.closeHandler(v -> streams.remove(response));
        response.exceptionHandler(e -> streams.remove(response));
        response.write(": eventline console feed, one snapshot per second\n\n");
        start(ctx.vertx());
    }

    private synchronized void start(Vertx vertx) {
        if (timer < 0) {
            tick(vertx); // the first snapshot at once
            timer = vertx.setPeriodic(PERIOD_MS, id -> tick(vertx));
        }
    }

    /**
     * Builds one snapshot for every open feed, unless the last one is still being built (a busy machine: ticks
     * never pile up, and snapshots go out in order). A snapshot that cannot be built is said on the feed, as an
     * {@code failure} event, so a console does not show old figures as live.
     */
    private synchronized void tick(Vertx vertx) {
        streams.removeIf(HttpServerResponse::closed);
        if (streams.isEmpty()) {
            vertx.cancelTimer(timer);
            timer = -1;
            return;
        }
        if (!building.compareAndSet(false, true)) {
            return;
        }
        vertx.executeBlocking(this::event, false).onComplete(done -> {
            building.set(false);
            String event = done.succeeded() ? done.result() : failure(done.cause());
            streams.forEach(r -> {
                if (!r.closed() && !r.writeQueueFull()) {
                    r.write(event);
                }
            });
        });
    }

    private String event() {
        return "event: snapshot\ndata: " + text() + "\n\n";
    }

    private String failure(Throwable e) {
        long now = System.nanoTime();
        if (now - lastWarning > WARN_EVERY_NANOS) {
            lastWarning = now;
            LOG.warnf(e, "console snapshot not built (said once a minute)");
        }
        return "event: failure\ndata: " + json.createObjectNode().put("message", "the snapshot could not be built: "
                + e.getClass().getSimpleName()) + "\n\n";
    }

    private String text() {
        try {
            return json.writeValueAsString(view.snapshot());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
