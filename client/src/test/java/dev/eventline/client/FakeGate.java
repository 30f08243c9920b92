package dev.eventline.client;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A gate that answers what a test scripts, byte for byte: the gate's JSON answers, garbage, an answer cut off
 * mid-way, or silence. A plain socket server (HTTP/1.1, one request per connection), so that nothing between
 * it and the client tidies up what it writes. Records every request with the event ids it carried.
 */
final class FakeGate implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One request and what it got. */
    static final class Exchange {
        final long arrivedNanos = System.nanoTime();
        final List<String> ids;
        final String authorization;
        volatile long answeredNanos = Long.MAX_VALUE;

        Exchange(List<String> ids, String authorization) {
            this.ids = ids;
            this.authorization = authorization;
        }
    }

    /** What to write back: raw bytes, optionally followed by silence instead of closing. */
    record Reply(String raw, boolean thenSilence) {

        static Reply json(int status, String body, String... headers) {
            StringBuilder r = new StringBuilder("HTTP/1.1 " + status + " Fake\r\nContent-Type: application/json\r\n");
            for (String h : headers) {
                r.append(h).append("\r\n");
            }
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            return new Reply(r.append("Content-Length: ").append(b.length).append("\r\nConnection: close\r\n\r\n")
                    .append(body).toString(), false);
        }

        static Reply accepted(int n) {
            return json(202, "{\"accepted\":" + n + "}");
        }

        /** Written as is, then the connection is closed. */
        static Reply raw(String bytes) {
            return new Reply(bytes, false);
        }

        /** Written as is, then nothing more until the client gives up. */
        static Reply rawThenSilence(String bytes) {
            return new Reply(bytes, true);
        }
    }

    private final ServerSocket server;
    private final BiFunction<Integer, Exchange, Reply> script;
    private final List<Exchange> exchanges = new CopyOnWriteArrayList<>();
    private final AtomicInteger count = new AtomicInteger();
    private final CountDownLatch closed = new CountDownLatch(1);

    /** @param script answers request n (from 0) */
    FakeGate(BiFunction<Integer, Exchange, Reply> script) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.script = script;
        Thread acceptor = new Thread(this::accept, "fake-gate");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort() + "/events");
    }

    List<Exchange> exchanges() {
        return List.copyOf(exchanges);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> serve(s), "fake-gate-connection");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            InputStream in = new BufferedInputStream(socket.getInputStream());
            List<String> head = head(in);
            if (head.isEmpty()) {
                return;
            }
            byte[] body = in.readNBytes(Integer.parseInt(header(head, "content-length", "0")));
            Exchange x = new Exchange(ids(body), header(head, "authorization", null));
            exchanges.add(x);
            Reply reply = script.apply(count.getAndIncrement(), x);
            OutputStream out = socket.getOutputStream();
            x.answeredNanos = System.nanoTime();
            out.write(reply.raw().getBytes(StandardCharsets.UTF_8));
            out.flush();
            if (reply.thenSilence()) {
                closed.await(60, TimeUnit.SECONDS);
            }
        } catch (IOException | InterruptedException e) {
            // the client went away, or the test ended
        }
    }

    private static List<String> head(InputStream in) throws IOException {
        List<String> lines = new ArrayList<>();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int c; (c = in.read()) >= 0;) {
            if (c != '\n') {
                line.write(c);
                continue;
            }
            String l = line.toString(StandardCharsets.ISO_8859_1).strip();
            line.reset();
            if (l.isEmpty()) {
                return lines;
            }
            lines.add(l);
        }
        return List.of();
    }

    private static String header(List<String> head, String name, String otherwise) {
        for (String l : head) {
            int colon = l.indexOf(':');
            if (colon > 0 && l.substring(0, colon).strip().toLowerCase(Locale.ROOT).equals(name)) {
                return l.substring(colon + 1).strip();
            }
        }
        return otherwise;
    }

    private static List<String> ids(byte[] body) throws IOException {
        List<String> ids = new ArrayList<>();
        for (JsonNode e : JSON.readTree(body)) {
            ids.add(e.path("id").asText());
        }
        return ids;
    }

    @Override
    public void close() throws IOException {
        closed.countDown();
        server.close();
    }
}
