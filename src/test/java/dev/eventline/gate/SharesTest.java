package dev.eventline.gate;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Fair shares over a sliding 10 s window, by what producers ask for. */
class SharesTest {

    @Test
    void aLoneProducerIsNeverOverItsShare() {
        Shares shares = new Shares();
        shares.record("a", 1_000_000, 0);
        assertFalse(shares.overShare("a", 0));
    }

    @Test
    void theProducerAskingForMostIsOverItsShareAndTheOtherIsNot() {
        Shares shares = new Shares();
        shares.record("flood", 900, 1_000);
        shares.record("polite", 10, 1_000);
        assertTrue(shares.overShare("flood", 1_000));
        assertFalse(shares.overShare("polite", 1_000));
    }

    @Test
    void equalProducersAreWithinTheirShare() {
        Shares shares = new Shares();
        shares.record("a", 100, 1_000);
        shares.record("b", 110, 1_000);
        shares.record("c", 90, 1_000);
        assertFalse(shares.overShare("a", 1_000));
        assertFalse(shares.overShare("b", 1_000));
    }

    @Test
    void theWindowForgetsProducersSilentForTenSeconds() {
        Shares shares = new Shares();
        shares.record("flood", 900, 1_000);
        shares.record("polite", 10, 1_000);
        shares.record("polite", 10, 11_500); // the flood's second has left the window
        assertFalse(shares.overShare("polite", 11_500));
        shares.record("flood", 10, 11_500);
        assertFalse(shares.overShare("flood", 11_500), "both asked for 10 in the current window");
    }
}
