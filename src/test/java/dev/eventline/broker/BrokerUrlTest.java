package dev.eventline.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.rabbitmq.client.Address;

/** A broker URL that cannot be used stops start-up with a message that never repeats the password. */
class BrokerUrlTest {

    private static final String SECRET = "s3cr3t";

    @ParameterizedTest
    @ValueSource(strings = {
        "amqp://user:" + SECRET + "^x@host:5672/%2F", // raw ^: java.net.URI refuses it, quoting its input
        "amqp://user:" + SECRET + " x@host:5672/%2F", // raw space
        "amqp://user:" + SECRET + "@x@host:5672/%2F", // raw @: parses as a host-less authority
        "amqp://user:" + SECRET + "#x@host:5672/%2F", // raw #: the rest becomes a fragment
        "amqp://user:" + SECRET + "/x@host:5672/%2F", // raw /: the rest becomes the path
        "http://user:" + SECRET + "@host:5672/%2F", // not AMQP
        "amqp://user:" + SECRET + "@host:5672/a/b", // a vhost of two segments
    })
    void anUnusableUrlIsRefusedWithoutItsSecret(String url) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BrokerUrl.parse(url));
        assertFalse(e.getMessage().contains(SECRET), e.getMessage());
        assertFalse(String.valueOf(e.getCause()).contains(SECRET), String.valueOf(e.getCause()));
        assertTrue(e.getMessage().startsWith("rabbitmq.url (RABBITMQ_URL) is not a usable broker URL: "),
                e.getMessage());
    }

    @Test
    void aRawAtSignNeverFallsBackToLocalhost() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BrokerUrl.parse("amqp://user:p@ss@broker.example:5672/%2F"));
        assertTrue(e.getMessage().contains("%40"), "tells how to encode it: " + e.getMessage());
    }

    @Test
    void anEncodedPasswordIsUsableAndRedactedInLogs() {
        BrokerUrl url = BrokerUrl.parse("amqps://user:" + SECRET + "%40%23%5E@broker.example:5671/prod");
        assertEquals("amqps://user:***@broker.example:5671/prod", url.redacted());
        assertTrue(url.tls());
        assertEquals(List.of(new Address("broker.example", 5671)), url.addresses(null));
    }

    @Test
    void addressesReplaceTheUrlsHostWithTheSchemesDefaultPort() {
        BrokerUrl url = BrokerUrl.parse("amqp://u:p@ignored/%2F");
        assertEquals(List.of(new Address("n1", 5672), new Address("n2", 5673), new Address("[::1]", 5672)),
                url.addresses("n1, n2:5673,[::1]"));
        assertThrows(IllegalArgumentException.class, () -> url.addresses("n1:x"));
        assertThrows(IllegalArgumentException.class, () -> url.addresses(" , "));
    }
}
