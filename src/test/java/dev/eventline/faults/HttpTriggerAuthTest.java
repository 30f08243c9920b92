package dev.eventline.faults;

import static dev.eventline.faults.HttpTriggerTest.basic;
import static dev.eventline.faults.HttpTriggerTest.event;
import static dev.eventline.faults.HttpTriggerTest.source;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

import jakarta.inject.Inject;

import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.testsupport.BrokerResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;

/**
 * The HTTP trigger's credential, attacked: every path the trigger or Funqy serves refuses a caller without the
 * token, whatever it sends instead, with 401 before the body is read and before anything runs or is stored; the
 * token works as Basic password (as a RabbitmqSource sends it) and as Bearer; health and admin keep their own
 * rules; and no log line carries a token, right or wrong.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(HttpTriggerProfile.class)
class HttpTriggerAuthTest {

    private static final String TOKEN = HttpTriggerProfile.TOKEN;
    private static final String WRONG = "wrong-token-0123456789abcdef";

    @Inject
    Ledger ledger;

    @TestHTTPResource("/")
    URI root;

    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final Capture logs = new Capture();

    /** Every log record of the application while a test runs. */
    static final class Capture extends Handler {
        final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());

        @Override
        public void publish(LogRecord r) {
            String text = r instanceof ExtLogRecord ext ? ext.getFormattedMessage() : r.getMessage();
            lines.add(text + (r.getThrown() == null ? "" : " " + r.getThrown()));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    @BeforeEach
    void captureLogs() {
        java.util.logging.Logger.getLogger("").addHandler(logs);
    }

    @AfterEach
    void noLogLineCarriesAToken() {
        java.util.logging.Logger.getLogger("").removeHandler(logs);
        for (String line : logs.lines) {
            assertFalse(line.contains(TOKEN) || line.contains(WRONG), "a log line shows a token: " + line);
        }
    }

    @Test
    void everyPathOfTheTriggerRefusesACallerWithoutTheTokenAndRunsOrStoresNothing() {
        String id = "noauth-" + run;
        ObjectNode e = event(id, "fault.strict", Script.ok());
        refused(given().contentType("application/cloudevents+json").body(e.toString()).post("/"));
        refused(given().contentType("application/cloudevents+json").body(e.toString()).post("/dead-letters"));
        refused(given().contentType("application/json").body(Script.ok()).post("/faultStrict"));
        refused(given().get("/faultStrict"));
        refused(given().post("/no-such-function"));
        assertEquals(0, ledger.calls(id), "the handler never ran");

        // the same dead letter with the token is stored; the refused one never was
        source().contentType("application/cloudevents+json").body(e.put("id", id + "-ok").toString())
                .post("/dead-letters").then().statusCode(202);
        Faults.awaitDeadLetter("flaky", id + "-ok");
        assertEquals(0, Faults.deadLetters("flaky", Map.of("id", id)).path("matched").asInt());
    }

    @Test
    void anythingButTheTokenIsRefused() {
        String body = event("forged-" + run, "fault.strict", Script.ok()).toString();
        List<String> forged = List.of(
                "Bearer " + WRONG, "Bearer ", "Bearer", "bearer  ", basic(WRONG), basic(""),
                "Basic " + Base64.getEncoder().encodeToString((TOKEN + ":").getBytes(StandardCharsets.UTF_8)),
                "Basic " + Base64.getEncoder().encodeToString(TOKEN.getBytes(StandardCharsets.UTF_8)),
                "Basic !!not-base64!!", "Basic ", "Token " + TOKEN, TOKEN, "Bearer " + TOKEN + "x",
                "Bearer " + TOKEN.substring(1), "Bearer " + TOKEN.toUpperCase(),
                "Bearer " + TOKEN + " ".repeat(2000) + "x", "Bearer " + "a".repeat(16 * 1024));
        for (String authorization : forged) {
            refused(given().header("Authorization", authorization).contentType("application/cloudevents+json")
                    .body(body).post("/"));
        }
        // a token anywhere but the Authorization header counts for nothing
        refused(given().queryParam("token", TOKEN).queryParam("access_token", TOKEN).contentType(
                "application/cloudevents+json").body(body).post("/"));
        refused(given().header("ce-authorization", "Bearer " + TOKEN).header("X-Auth-Token", TOKEN)
                .cookie("token", TOKEN).contentType("application/cloudevents+json").body(body).post("/"));
        assertEquals(0, ledger.calls("forged-" + run));
    }

    /** Paths that look like health's or admin's but lead elsewhere once normalized need the token all the same. */
    @Test
    void pathsDisguisedAsExemptOnesNeedTheToken() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        for (String path : List.of("/q/../faultStrict", "/q/%2e%2e/faultStrict", "/admin/../faultStrict",
                "/q/../dead-letters", "//faultStrict", "/q")) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(root.toString().replaceAll("/$", "")
                    + path)).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(r.statusCode() == 401 || r.statusCode() == 404 || r.statusCode() == 405,
                    path + " answered " + r.statusCode() + ": " + r.body());
            assertFalse(r.statusCode() < 300 || r.statusCode() >= 500, path + " answered " + r.statusCode());
        }
        assertEquals(401, client.send(HttpRequest.newBuilder(URI.create(root.toString().replaceAll("/$", "")
                + "/q/../faultStrict")).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode(), "the normalized path is a function's");
    }

    @Test
    void theTokenWorksAsBasicPasswordWithAnyUserAndAsBearer() {
        for (String authorization : List.of(basic(TOKEN), "Basic " + Base64.getEncoder().encodeToString(
                (":" + TOKEN).getBytes(StandardCharsets.UTF_8)), "Bearer " + TOKEN, "bearer " + TOKEN)) {
            String id = "auth-" + run + "-" + Math.abs(authorization.hashCode());
            given().header("Authorization", authorization).contentType("application/cloudevents+json")
                    .body(event(id, "fault.strict", Script.ok()).toString()).post("/").then().statusCode(204);
            assertEquals(1, ledger.applied(id), authorization.substring(0, 6));
        }
    }

    @Test
    void healthAndAdminKeepTheirOwnRules() {
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200);
        given().auth().oauth2(FaultProfile.TOKEN).get("/admin/functions/flaky/dead-letters").then().statusCode(200);
        given().auth().oauth2(TOKEN).get("/admin/functions/flaky/dead-letters").then().statusCode(401);
    }

    /**
     * Sends a request head that announces a megabyte and only the first byte of the body: the 401 comes back
     * while the body is still missing (Quarkus' body handler would wait for all of it).
     */
    @Test
    void answers401BeforeReadingTheBody() throws IOException {
        try (Socket socket = new Socket(root.getHost(), root.getPort())) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST / HTTP/1.1\r\nHost: " + root.getHost() + "\r\nContent-Type: application/cloudevents+json\r\n"
                    + "Authorization: Bearer " + WRONG + "\r\nContent-Length: 1048576\r\n\r\n{")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String head = readHead(socket.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 401"), head);
            assertTrue(head.contains("WWW-Authenticate: Basic realm=\"eventline-trigger\""), head);
            assertTrue(head.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), head);
        }
    }

    /** @return the status line and headers of the answer */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    private static void refused(Response response) {
        response.then().statusCode(401).header("WWW-Authenticate", startsWith("Basic realm=\"eventline-trigger\""))
                .body("error", equalTo("unauthorized"));
        assertFalse(response.asString().contains(TOKEN) || response.asString().contains(WRONG), response.asString());
    }
}
