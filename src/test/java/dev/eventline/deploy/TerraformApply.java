package dev.eventline.deploy;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.testsupport.TestBroker;

/**
 * Applies a plan to a broker the way the cyrilgdn/rabbitmq provider does, through the management HTTP API:
 * the same endpoints and bodies, and numeric queue and binding arguments passed through float64 (the provider
 * decodes {@code arguments_json} into Go's {@code interface{}}). Stands in for {@code terraform apply} where no
 * terraform binary and no provider can be installed. Only for a broker the tests started.
 */
final class TerraformApply {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROP = "dev.eventline.testsupport.TestBroker.";

    private final String url;
    private final String authorization;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final List<String> createdVhosts = new ArrayList<>();
    private final List<String> createdUsers = new ArrayList<>();

    TerraformApply(TestBroker broker) {
        if (!broker.isPrivate()) {
            throw new IllegalStateException("refusing to create users and vhosts on " + broker + ": this JVM did not start it");
        }
        this.url = broker.managementUrl();
        // TestBroker publishes its management credentials as system properties; a private node uses guest
        String user = System.getProperty(PROP + "managementUser", "guest");
        String password = System.getProperty(PROP + "managementPassword", "guest");
        this.authorization = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Creates every planned resource, in dependency order (vhost, exchanges, queues, bindings, policies, users,
     * permissions). {@code passwords} gives each planned user name its password (the plan redacts them).
     * The management user gets full permissions on a created vhost, as the topology's owner.
     */
    void apply(TerraformPlan plan, Function<String, String> passwords) {
        for (JsonNode r : plan.resources("rabbitmq_vhost")) {
            String vhost = r.get("values").get("name").asText();
            put("/api/vhosts/" + enc(vhost), JSON.createObjectNode());
            createdVhosts.add(vhost);
            ObjectNode all = JSON.createObjectNode().put("configure", ".*").put("write", ".*").put("read", ".*");
            put("/api/permissions/" + enc(vhost) + "/" + enc(System.getProperty(PROP + "managementUser", "guest")), all);
        }
        for (JsonNode r : plan.resources("rabbitmq_exchange")) {
            JsonNode v = r.get("values");
            JsonNode s = v.get("settings").get(0);
            ObjectNode body = JSON.createObjectNode().put("type", s.get("type").asText())
                    .put("durable", s.path("durable").asBoolean(false)).put("auto_delete", s.path("auto_delete").asBoolean(false))
                    .put("internal", false);
            body.set("arguments", strings(s.get("arguments")));
            put("/api/exchanges/" + enc(vhost(v)) + "/" + enc(v.get("name").asText()), body);
        }
        for (JsonNode r : plan.resources("rabbitmq_queue")) {
            JsonNode v = r.get("values");
            JsonNode s = v.get("settings").get(0);
            ObjectNode body = JSON.createObjectNode().put("durable", s.path("durable").asBoolean(false))
                    .put("auto_delete", s.path("auto_delete").asBoolean(false));
            body.set("arguments", arguments(s));
            put("/api/queues/" + enc(vhost(v)) + "/" + enc(v.get("name").asText()), body);
        }
        for (JsonNode r : plan.resources("rabbitmq_binding")) {
            JsonNode v = r.get("values");
            ObjectNode body = JSON.createObjectNode().put("routing_key", v.path("routing_key").asText(""));
            body.set("arguments", arguments(v));
            String kind = v.get("destination_type").asText().equals("queue") ? "q" : "e";
            post("/api/bindings/" + enc(vhost(v)) + "/e/" + enc(v.get("source").asText()) + "/" + kind + "/"
                    + enc(v.get("destination").asText()), body);
        }
        for (JsonNode r : plan.resources("rabbitmq_policy")) {
            JsonNode v = r.get("values");
            JsonNode p = v.get("policy").get(0);
            ObjectNode body = JSON.createObjectNode().put("pattern", p.get("pattern").asText())
                    .put("priority", p.get("priority").asInt()).put("apply-to", p.get("apply_to").asText());
            body.set("definition", definition(p.get("definition")));
            put("/api/policies/" + enc(vhost(v)) + "/" + enc(v.get("name").asText()), body);
        }
        for (JsonNode r : plan.resources("rabbitmq_user")) {
            String name = r.get("values").get("name").asText();
            List<String> tags = new ArrayList<>();
            r.get("values").path("tags").forEach(t -> tags.add(t.asText()));
            put("/api/users/" + enc(name), JSON.createObjectNode().put("password", passwords.apply(name))
                    .put("tags", String.join(",", tags)));
            createdUsers.add(name);
        }
        for (JsonNode r : plan.resources("rabbitmq_permissions")) {
            JsonNode v = r.get("values");
            JsonNode p = v.get("permissions").get(0);
            ObjectNode body = JSON.createObjectNode().put("configure", p.get("configure").asText())
                    .put("write", p.get("write").asText()).put("read", p.get("read").asText());
            put("/api/permissions/" + enc(vhost(v)) + "/" + enc(v.get("user").asText()), body);
        }
    }

    /** A queue as the management API shows it (its policy, arguments). */
    JsonNode queue(String vhost, String name) {
        return get("/api/queues/" + enc(vhost) + "/" + enc(name));
    }

    /** Deletes what {@link #apply} created (a vhost goes with everything in it). */
    void destroy() {
        for (String user : createdUsers) {
            send(request("/api/users/" + enc(user)).DELETE().build());
        }
        for (String vhost : createdVhosts) {
            send(request("/api/vhosts/" + enc(vhost)).DELETE().build());
        }
    }

    private static String vhost(JsonNode values) {
        return values.path("vhost").asText("/");
    }

    /** arguments (strings) or arguments_json, numbers through float64 as the provider passes them. */
    private static ObjectNode arguments(JsonNode body) {
        JsonNode json = body.get("arguments_json");
        if (json != null && !json.isNull()) {
            ObjectNode out = JSON.createObjectNode();
            TerraformPlan.readJson(json.asText()).fields().forEachRemaining(f -> out.set(f.getKey(), viaFloat64(f.getValue())));
            return out;
        }
        return strings(body.get("arguments"));
    }

    private static ObjectNode strings(JsonNode map) {
        ObjectNode out = JSON.createObjectNode();
        if (map != null && !map.isNull()) {
            map.fields().forEachRemaining(f -> out.put(f.getKey(), f.getValue().asText()));
        }
        return out;
    }

    /** The provider converts numeric-looking definition values to numbers. */
    private static ObjectNode definition(JsonNode map) {
        ObjectNode out = JSON.createObjectNode();
        map.fields().forEachRemaining(f -> {
            String s = f.getValue().asText();
            if (s.matches("-?[0-9]+")) {
                out.put(f.getKey(), Long.parseLong(s));
            } else {
                out.put(f.getKey(), s);
            }
        });
        return out;
    }

    /** Go: json.Unmarshal into float64, json.Marshal back (integral values below 1e21 print without exponent). */
    private static JsonNode viaFloat64(JsonNode v) {
        if (!v.isNumber()) {
            return v;
        }
        double d = v.doubleValue();
        if (d == Math.rint(d) && Math.abs(d) < 1e21) {
            return JsonNodeFactory.instance.numberNode(new BigDecimal(d).toBigInteger());
        }
        return JsonNodeFactory.instance.numberNode(d);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private void put(String path, JsonNode body) {
        expect2xx("PUT " + path, send(request(path).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body.toString())).build()));
    }

    private void post(String path, JsonNode body) {
        expect2xx("POST " + path, send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build()));
    }

    private JsonNode get(String path) {
        HttpResponse<String> r = send(request(path).GET().build());
        expect2xx("GET " + path, r);
        return TerraformPlan.readJson(r.body());
    }

    private static void expect2xx(String what, HttpResponse<String> r) {
        if (r.statusCode() / 100 != 2) {
            throw new AssertionError(what + " answered " + r.statusCode() + ": " + r.body());
        }
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", authorization);
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AssertionError(request.method() + " " + request.uri() + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
