package dev.eventline.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The calls the tests make to a broker's management HTTP API. */
final class ManagementApi {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Without trailing slash. */
    final String url;
    final String user;
    final String password;
    private final Duration requestTimeout;
    private final HttpClient http;

    ManagementApi(String url, String user, String password) {
        this(url, user, password, Duration.ofSeconds(10), Duration.ofSeconds(30));
    }

    ManagementApi(String url, String user, String password, Duration connectTimeout, Duration requestTimeout) {
        this.url = Urls.stripTrailingSlash(url);
        this.user = user;
        this.password = password;
        this.requestTimeout = requestTimeout;
        this.http = HttpClient.newBuilder().connectTimeout(connectTimeout).build();
    }

    /** See {@link TestBroker#closeConnections(String)}. */
    int closeConnections(String connectionNamePrefix) {
        return closeConnections(n -> n.startsWith(connectionNamePrefix), connectionNamePrefix + "*");
    }

    /** Closes the connections whose client-provided name matches; @return how many */
    int closeConnections(java.util.function.Predicate<String> clientProvidedName, String what) {
        int closed = 0;
        for (JsonNode connection : getJson("/api/connections")) {
            JsonNode clientName = connection.path("client_properties").path("connection_name");
            String name = connection.path("name").textValue();
            if (clientName.isTextual() && clientProvidedName.test(clientName.textValue()) && name != null
                    && closeConnection(name)) {
                closed++;
            }
        }
        if (closed > 0) {
            Support.log("closed " + closed + " connection(s) named " + what);
        }
        return closed;
    }

    /** @return the numbers of the open channels of the connections with this client-provided name */
    java.util.Set<Integer> channelNumbers(String clientProvidedName) {
        java.util.Set<Integer> numbers = new java.util.TreeSet<>();
        for (JsonNode connection : getJson("/api/connections")) {
            if (clientProvidedName.equals(connection.path("client_properties").path("connection_name").textValue())) {
                for (JsonNode channel : getJson("/api/connections/" + Urls.encodePathSegment(
                        connection.path("name").textValue()) + "/channels")) {
                    numbers.add(channel.path("number").asInt());
                }
            }
        }
        return numbers;
    }

    /** Deletes the queues and exchanges of the vhost whose names start with prefix; @return how many */
    int deleteByPrefix(String vhost, String prefix) {
        int deleted = 0;
        for (String kind : List.of("queues", "exchanges")) {
            String base = "/api/" + kind + "/" + Urls.encodePathSegment(vhost);
            for (JsonNode item : getJson(base + "?columns=name")) {
                String name = item.path("name").asText("");
                if (!prefix.isEmpty() && name.startsWith(prefix)) {
                    HttpResponse<String> r = sendOrFail(request(base + "/" + Urls.encodePathSegment(name)).DELETE()
                            .build());
                    deleted += r.statusCode() / 100 == 2 ? 1 : 0;
                }
            }
        }
        return deleted;
    }

    /** See {@link TestBroker#queueMessages(String)}. */
    long queueMessages(String vhost, String queue) {
        return getJson("/api/queues/" + Urls.encodePathSegment(vhost) + "/" + Urls.encodePathSegment(queue))
                .path("messages").asLong(-1);
    }

    String queueType(String vhost, String queue) {
        return getJson("/api/queues/" + Urls.encodePathSegment(vhost) + "/" + Urls.encodePathSegment(queue))
                .path("type").asText("");
    }

    /**
     * Closes the connection of this (broker-side) name; false when it closed in the meantime. A connection that
     * is ending while it is closed (its client closes it, e.g. because a sibling connection was just closed)
     * makes the management API answer 500 with no body: it is then tried again, and counts as closed by itself
     * once the broker no longer lists it.
     */
    private boolean closeConnection(String name) {
        String path = "/api/connections/" + Urls.encodePathSegment(name);
        HttpResponse<String> response = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            response = sendOrFail(request(path).header("X-Reason", "test").DELETE().build());
            if (response.statusCode() / 100 == 2) {
                return true;
            }
            if (response.statusCode() == 404) { // it closed in the meantime
                return false;
            }
            if (response.statusCode() != 500) {
                break;
            }
            if (sendOrFail(request(path).GET().build()).statusCode() == 404) {
                return false;
            }
        }
        throw new IllegalStateException("DELETE " + path + " answered " + response.statusCode() + ": "
                + response.body());
    }

    /** Why {@code GET path} does not answer 200 (the status and body, or the I/O error); empty when it does. */
    Optional<String> problem(String path) {
        try {
            HttpResponse<String> response = send(request(path).GET().build());
            return response.statusCode() == 200 ? Optional.empty()
                    : Optional.of(response.statusCode() + " " + response.body());
        } catch (IOException e) {
            return Optional.of(e.toString());
        }
    }

    JsonNode getJson(String path) {
        HttpRequest request = request(path).GET().build();
        HttpResponse<String> response = sendOrFail(request);
        if (response.statusCode() != 200) {
            throw new IllegalStateException("GET " + request.uri() + " answered " + response.statusCode() + ": "
                    + response.body());
        }
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + request.uri() + " did not answer JSON", e);
        }
    }

    private HttpRequest.Builder request(String path) {
        String auth = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        return HttpRequest.newBuilder(URI.create(url + path))
                .timeout(requestTimeout)
                .header("Authorization", "Basic " + auth);
    }

    private HttpResponse<String> sendOrFail(HttpRequest request) {
        try {
            return send(request);
        } catch (IOException e) {
            throw new UncheckedIOException(request.method() + " " + request.uri() + " failed", e);
        }
    }

    private HttpResponse<String> send(HttpRequest request) throws IOException {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
