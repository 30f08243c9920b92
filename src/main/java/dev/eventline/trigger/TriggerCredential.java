package dev.eventline.trigger;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.regex.Pattern;

import org.jboss.logging.Logger;

import dev.eventline.config.EventlineConfig;
import dev.eventline.http.HttpAnswer;
import dev.eventline.http.HttpError;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Who may call the HTTP trigger: whoever presents the shared token {@code eventline.trigger.token}, as the password
 * of {@code Authorization: Basic} (a RabbitmqSource, or a Trigger's dead-letter sink, sends the user info of its
 * sink URI {@code http://eventline:<token>@<service>/} that way: Go's HTTP client turns it into that header) or as
 * {@code Authorization: Bearer <token>}. Checked on every path the trigger or Funqy serves ({@code /},
 * {@code /dead-letters}, {@code /<function>}) before the body is read: the route runs ahead of Quarkus' body
 * handler, answers {@code 401} at once and closes the connection. Health and metrics ({@code /q/...}), and the
 * gate and admin paths when they are served (they check their own credentials), pass. Tokens are compared as
 * SHA-256 digests in constant time, and never logged.
 */
final class TriggerCredential implements Handler<RoutingContext> {

    private static final Logger LOG = Logger.getLogger(TriggerCredential.class);
    static final int MIN_TOKEN = 16;
    /** A longer Authorization header is refused without decoding it. */
    static final int MAX_HEADER = 1024;
    private static final Pattern URL_SAFE = Pattern.compile("[A-Za-z0-9._~-]+");
    static final String REALM = "Basic realm=\"eventline-trigger\", charset=\"UTF-8\"";

    private final byte[] digest; // null: open
    private final boolean gatePaths;
    private final boolean adminPaths;

    private TriggerCredential(byte[] digest, boolean gatePaths, boolean adminPaths) {
        this.digest = digest;
        this.gatePaths = gatePaths;
        this.adminPaths = adminPaths;
    }

    /** @throws IllegalStateException when HTTP mode has no usable token and is not opened for development */
    static TriggerCredential of(EventlineConfig config) {
        EventlineConfig.TriggerSettings settings = config.trigger();
        boolean gate = config.gate().enabled();
        boolean admin = config.admin().enabled();
        if (settings.open()) {
            if (settings.token().isPresent()) {
                throw new IllegalStateException("eventline.trigger.open=true and eventline.trigger.token are both set: "
                        + "an open trigger ignores its token. Remove eventline.trigger.open (production) or the token.");
            }
            LOG.warn("HTTP trigger is OPEN (eventline.trigger.open=true): anyone who can reach this process can run "
                    + "the functions' handlers and write dead letters. For development only; set eventline.trigger.token.");
            return new TriggerCredential(null, gate, admin);
        }
        return new TriggerCredential(sha256(usable(settings.token().orElse(""))), gate, admin);
    }

    private static byte[] usable(String token) {
        String fix = " Set eventline.trigger.token (env EVENTLINE_TRIGGER_TOKEN) to " + MIN_TOKEN + "+ URL-safe characters "
                + "(A-Z a-z 0-9 - . _ ~, e.g. openssl rand -hex 24), the same the RabbitmqSources send (docs/deploying.md \"The HTTP "
                + "trigger\"), or eventline.trigger.open=true for development only.";
        if (token.isEmpty()) {
            throw new IllegalStateException("eventline.trigger.mode=http but eventline.trigger.token is not set: refusing "
                    + "to run handlers and store dead letters for anyone who can reach this process." + fix);
        }
        if (token.length() < MIN_TOKEN || !URL_SAFE.matcher(token).matches()) {
            throw new IllegalStateException("eventline.trigger.token is " + (token.length() < MIN_TOKEN
                    ? "shorter than " + MIN_TOKEN + " characters" : "not URL-safe (a space or trailing newline?)") + "." + fix);
        }
        return token.getBytes(StandardCharsets.UTF_8);
    }

    boolean isOpen() {
        return digest == null;
    }

    @Override
    public void handle(RoutingContext ctx) {
        // Vert.x routes by the normalized path, Funqy by the raw one: either serving a function needs the token
        boolean guarded = guarded(ctx.normalizedPath()) || guarded(ctx.request().path());
        if (isOpen() || !guarded || accepts(ctx.request().getHeader("Authorization"))) {
            ctx.next();
            return;
        }
        LOG.debugf("HTTP trigger: 401 for %s %s from %s", ctx.request().method(), ctx.normalizedPath(),
                ctx.request().remoteAddress());
        ctx.response().putHeader("WWW-Authenticate", REALM).putHeader("Connection", "close");
        HttpAnswer.refuse(ctx, new HttpError(401, "unauthorized", "the HTTP trigger requires its token: Authorization: "
                + "Basic with the token as password, or Authorization: Bearer <token> (eventline.trigger.token)"));
    }

    /** @return whether the trigger or Funqy would serve this path, so that it needs the token */
    boolean guarded(String path) {
        return !(path.equals("/q") || path.startsWith("/q/") || (adminPaths && path.startsWith("/admin/"))
                || (gatePaths && path.equals("/events")));
    }

    /** @return whether this Authorization header carries the token (Basic password or Bearer) */
    boolean accepts(String authorization) {
        if (authorization == null || authorization.length() > MAX_HEADER) {
            return false;
        }
        int space = authorization.indexOf(' ');
        String scheme = space < 0 ? "" : authorization.substring(0, space).toLowerCase(Locale.ROOT);
        String rest = space < 0 ? "" : authorization.substring(space + 1).strip();
        byte[] given = switch (scheme) {
            case "bearer" -> rest.getBytes(StandardCharsets.UTF_8);
            case "basic" -> basicPassword(rest);
            default -> null;
        };
        return given != null && given.length > 0 && MessageDigest.isEqual(sha256(given), digest);
    }

    private static byte[] basicPassword(String encoded) {
        try {
            String pair = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
            int colon = pair.indexOf(':');
            return colon < 0 ? null : pair.substring(colon + 1).getBytes(StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static byte[] sha256(byte[] value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
