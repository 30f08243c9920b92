package dev.eventline.console;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

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

    private final List<HttpServerResponse> streams = new CopyOnWriteArrayList<>();
    private long timer = -1;

    void register(@Observes Router router) {
        if (!config.admin().enabled()) {
            return; // no admin token, no console (AdminRoutes says so in the log)
        }
        file(router, "/console", "index.html", "text/html; charset=utf-8");
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
        if (streams.size() >= MAX_STREAMS) {
            HttpAnswer.refuse(ctx, HttpError.unavailable(MAX_STREAMS + " consoles are open already; close one, or "
                    + "try again later", 10));
            return;
        }
        HttpServerResponse response = ctx.response().setChunked(true)
                .putHeader("Content-Type", "text/event-stream; charset=utf-8").putHeader("Cache-Control", "no-store")
                .putHeader("X-Accel-Buffering", "no");
        response.write(": eventline console feed, one snapshot per second\n\n");
        streams.add(response);
        response.closeHandler(v -> streams.remove(response));
        response.exceptionHandler(e -> streams.remove(response));
        start(ctx.vertx());
    }

    private synchronized void start(Vertx vertx) {
        if (timer < 0) {
            tick(vertx); // the first snapshot at once
            timer = vertx.setPeriodic(PERIOD_MS, id -> tick(vertx));
        }
    }

    private synchronized void tick(Vertx vertx) {
        if (streams.isEmpty()) {
            vertx.cancelTimer(timer);
            timer = -1;
            return;
        }
        vertx.executeBlocking(() -> "event: snapshot\ndata: " + text() + "\n\n", false)
                .onSuccess(event -> streams.forEach(r -> {
                    if (!r.closed() && !r.writeQueueFull()) {
                        r.write(event);
                    }
                }))
                .onFailure(e -> LOG.debugf("console snapshot not built: %s", e.toString()));
    }

    private String text() {
        try {
            return json.writeValueAsString(view.snapshot());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
