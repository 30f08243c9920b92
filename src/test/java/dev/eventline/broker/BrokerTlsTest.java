package dev.eventline.broker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;

import dev.eventline.testsupport.PrivateNode;
import dev.eventline.testsupport.TestCertificates;

/**
 * amqps against a real broker that requires client certificates: the application verifies the broker against
 * its trust store and presents its own certificate; without either, or with the wrong authority, the
 * connection is refused, and no message names a password.
 */
class BrokerTlsTest {

    private static TestCertificates certs;
    private static TestCertificates stranger;
    private static PrivateNode node;
    private static int tlsPort;

    @BeforeAll
    static void startATlsBroker() throws Exception {
        Path dir = Path.of("target", "tls-" + UUID.randomUUID().toString().substring(0, 8)).toAbsolutePath();
        certs = TestCertificates.create(dir.resolve("good"), "eventline-test-ca");
        stranger = TestCertificates.create(dir.resolve("other"), "some-other-ca");
        tlsPort = PrivateNode.freePorts(1)[0];
        node = PrivateNode.start(String.join("\n",
                "listeners.ssl.1 = 127.0.0.1:" + tlsPort,
                "ssl_options.cacertfile = " + certs.caPem(),
                "ssl_options.certfile = " + certs.serverPem(),
                "ssl_options.keyfile = " + certs.serverKeyPem(),
                "ssl_options.verify = verify_peer",
                "ssl_options.fail_if_no_peer_cert = true",
                ""));
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void connectsWithItsTrustStoreAndClientCertificate() throws Exception {
        Broker broker = new Broker(config(certs.trustStore(), certs.clientKeyStore(), TestCertificates.PASSWORD));
        try (Connection c = broker.openUnrecovered("tls-test")) {
            Channel ch = c.createChannel();
            String queue = ch.queueDeclare().getQueue();
            ch.basicPublish("", queue, null, new byte[] {1, 2, 3});
            GetResponse got = ch.basicGet(queue, true);
            assertNotNull(got, "the message went through the TLS connection");
            assertArrayEquals(new byte[] {1, 2, 3}, got.getBody());
        }
    }

    @Test
    void isRefusedWithoutAClientCertificate() {
        Broker broker = new Broker(config(certs.trustStore(), null, TestCertificates.PASSWORD));
        assertThrows(Exception.class, () -> broker.openUnrecovered("tls-test-no-cert").close());
    }

    @Test
    void refusesABrokerSignedByAnotherAuthority() {
        Broker broker = new Broker(config(stranger.trustStore(), certs.clientKeyStore(), TestCertificates.PASSWORD));
        Exception e = assertThrows(Exception.class, () -> broker.openUnrecovered("tls-test-stranger").close());
        assertFalse(chain(e).contains(TestCertificates.PASSWORD), chain(e));
    }

    @Test
    void aWrongStorePasswordStopsStartUpWithoutShowingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Broker(config(certs.trustStore(), null, "not-the-password")));
        assertTrue(e.getMessage().startsWith("rabbitmq.tls.trust-store: "), e.getMessage());
        assertFalse(chain(e).contains("not-the-password"), chain(e));
    }

    private static String chain(Throwable t) {
        StringBuilder all = new StringBuilder();
        for (Throwable x = t; x != null; x = x.getCause()) {
            all.append(x).append(" / ");
        }
        return all.toString();
    }

    private static BrokerConfig config(Path trust, Path keys, String password) {
        return new BrokerSettings("amqps://guest:guest@localhost:" + tlsPort + "/%2F", Optional.empty(),
                new BrokerSettings.TlsSettings(trust.toString(), password, keys == null ? null : keys.toString(),
                        TestCertificates.PASSWORD));
    }
}
