package dev.eventline.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.impl.LongStringHelper;

/** One dead letter as the console opens it: text or base64, the first 64 KiB, headers readable (x-death as JSON). */
class DeadLetterDetailTest {

    private static AMQP.BasicProperties props(Map<String, Object> headers) {
        return new AMQP.BasicProperties.Builder().messageId("e-1").type("t").contentType("application/json")
                .headers(headers).build();
    }

    @Test
    void utf8DataIsTextAndOtherBytesAreBase64() {
        DeadLetterAdmin.Detail text = DeadLetterAdmin.detail(props(Map.of()), "{\"a\":\"é\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals("utf-8", text.encoding());
        assertEquals("{\"a\":\"é\"}", text.data());
        assertFalse(text.truncated());

        byte[] binary = {(byte) 0xff, (byte) 0xfe, 0, 1};
        DeadLetterAdmin.Detail b = DeadLetterAdmin.detail(props(Map.of()), binary);
        assertEquals("base64", b.encoding());
        assertEquals(Base64.getEncoder().encodeToString(binary), b.data());

        // a whole body that ends in a broken character is not text: nothing of it is dropped silently
        byte[] broken = Arrays.copyOf("ab".getBytes(StandardCharsets.UTF_8), 3);
        broken[2] = (byte) 0xc3;
        assertEquals("base64", DeadLetterAdmin.detail(props(Map.of()), broken).encoding());
    }

    @Test
    void aLargeBodyShowsItsFirst64KibAndACharacterCutThereIsDropped() {
        byte[] body = new byte[DeadLetterAdmin.SHOWN_BYTES + 10];
        Arrays.fill(body, (byte) 'a');
        byte[] euro = "€".getBytes(StandardCharsets.UTF_8); // three bytes, cut after the first two
        System.arraycopy(euro, 0, body, DeadLetterAdmin.SHOWN_BYTES - 2, 3);
        DeadLetterAdmin.Detail d = DeadLetterAdmin.detail(props(Map.of()), body);
        assertTrue(d.truncated());
        assertEquals("utf-8", d.encoding());
        assertEquals(DeadLetterAdmin.SHOWN_BYTES - 2, d.data().length());
        assertEquals(body.length, d.event().bytes(), "the listing counts the whole body");
    }

    @Test
    void headersAreTextAndTablesAreJson() {
        Map<String, Object> death = Map.of("reason", LongStringHelper.asLongString("expired"), "count", 2L,
                "time", new Date(0));
        DeadLetterAdmin.Detail d = DeadLetterAdmin.detail(props(Map.of("eventline-reason",
                LongStringHelper.asLongString("retries exhausted"), "x-death", List.of(death))), new byte[0]);
        assertEquals("retries exhausted", d.headers().get("eventline-reason"));
        String xDeath = d.headers().get("x-death");
        assertTrue(xDeath.startsWith("[{") && xDeath.contains("\"reason\":\"expired\"")
                && xDeath.contains("\"time\":\"1970-01-01T00:00:00Z\"") && xDeath.contains("\"count\":2"), xDeath);
    }
}
