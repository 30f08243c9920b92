package dev.eventline.faults;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.eventline.testsupport.BrokerResource;
import dev.eventline.testsupport.Browser;
import dev.eventline.testsupport.GateClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;

/**
 * The operator console in a real browser (the system's Chromium, through Selenium), against the running
 * application and its broker: signing in, a wrong token, a partition's depth falling on the page while it drains,
 * a dead letter found by its key, opened, replayed and applied, and a purge refused without its confirmation.
 */
@QuarkusTest
@QuarkusTestResource(BrokerResource.class)
@TestProfile(FaultProfile.class)
class ConsoleBrowserTest extends FaultTestBase {

    private static ChromeDriver browser;

    @TestHTTPResource("/console")
    URI console;

    @BeforeAll
    static void startBrowser() {
        browser = Browser.start();
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @AfterEach
    void signOutAndResume() {
        browser.executeScript("sessionStorage.clear()");
        given().auth().oauth2(FaultProfile.TOKEN).contentType(ContentType.JSON).body(Map.of("paused", false))
                .post("/admin/functions/flaky/intake").then().statusCode(200);
    }

    @Test
    void aWrongTokenIsRefusedAndTheRightOneShowsTheFunctions() {
        browser.get(console.toString());
        signIn("not-the-token-0123456789");
        await().atMost(Duration.ofSeconds(20)).until(() -> text("login-error").contains("does not match"));
        assertFalse(browser.findElement(By.id("main")).isDisplayed(), "nothing is shown without the token");
        assertTrue(browser.findElement(By.id("login")).isDisplayed());

        signIn(FaultProfile.TOKEN);
        await().atMost(Duration.ofSeconds(20)).until(() -> browser.findElement(By.id("main")).isDisplayed());
        for (String fn : List.of("flaky", "relaxed", "slow", "fragile")) {
            await().atMost(Duration.ofSeconds(20)).until(() -> !browser.findElements(function(fn)).isEmpty());
        }
        // the partitions have an owner once the monitor and the reports have been read
        await().atMost(Duration.ofSeconds(30)).until(() -> !text("instance").isEmpty()
                && cell("flaky", 0, 1).equals(text("instance")));
        assertTrue(text("status").startsWith("live"), text("status"));

        browser.findElement(By.id("sign-out")).click();
        await().atMost(Duration.ofSeconds(10)).until(() -> browser.findElement(By.id("login")).isDisplayed());
        assertEquals(null, browser.executeScript("return sessionStorage.getItem('eventline.console.token')"));
    }

    @Test
    void aPartitionsDepthFallsOnThePageWhileItDrains() {
        String held = "drain-held-" + run;
        List<ObjectNode> batch = new ArrayList<>();
        batch.add(GateClient.event(held, "fault.strict", "drain-" + run, Script.ok().holding(1, false)));
        for (int i = 0; i < 150; i++) {
            batch.add(GateClient.event("drain-" + i + "-" + run, "fault.strict", "drain-k" + i + "-" + run, Script.ok()));
        }
        new GateClient(events).deliver(batch, 5); // one request: admitted at once, queued behind the held event
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> ledger.calls(held) == 1);
            watchTheDepthFall(held);
        } finally {
            ledger.release(held); // whatever happened, the partition is not left blocked for the next test
        }
    }

    private void watchTheDepthFall(String held) {
        openConsole();
        long[] shown = {-1};
        await().atMost(Duration.ofSeconds(30)).until(() -> (shown[0] = depth("flaky", 0)) >= 50);
        long before = shown[0];

        browser.findElement(function("flaky")).findElement(By.cssSelector("button[data-action='drain']")).click();
        await().atMost(Duration.ofSeconds(20)).until(() -> !browser.findElement(function("flaky"))
                .findElements(By.cssSelector("[data-state='draining']")).isEmpty());
        ledger.release(held);

        List<Long> seen = new ArrayList<>(List.of(before));
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            long now = depth("flaky", 0);
            if (now >= 0) {
                seen.add(now);
            }
            return now == 0;
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> !browser.findElement(function("flaky"))
                .findElements(By.cssSelector("[data-state='drained']")).isEmpty());
        assertTrue(seen.size() > 1, "the page showed the backlog fall: " + seen);
        for (int i = 1; i < seen.size(); i++) {
            assertTrue(seen.get(i) <= seen.get(i - 1), "the depth only falls while draining: " + seen);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.applied("drain-149-" + run) == 1);

        browser.findElement(function("flaky")).findElement(By.cssSelector("button[data-action='resume']")).click();
        await().atMost(Duration.ofSeconds(20)).until(() -> !browser.findElement(function("flaky"))
                .findElements(By.cssSelector("[data-state='open']")).isEmpty());
    }

    @Test
    void aDeadLetterFoundByItsKeyIsOpenedReplayedAndApplied() {
        String id = "console-dl-" + run;
        String key = "console-key-" + run;
        String other = "console-other-" + run;
        new GateClient(events).deliver(List.of(GateClient.event(id, "fault.strict", key, Script.brokenUntilFixed()),
                GateClient.event(other, "fault.strict", "other-" + key, Script.brokenUntilFixed())), 5);
        Faults.awaitDeadLetter("flaky", id);
        Faults.awaitDeadLetter("flaky", other);

        openConsole();
        search("flaky", key);
        await().atMost(Duration.ofSeconds(20)).until(() -> listedIds().equals(List.of(id)));

        browser.findElement(By.cssSelector("#dl-rows tr[data-id='" + id + "'] button")).click();
        await().atMost(Duration.ofSeconds(20)).until(() -> browser.findElement(By.id("dl-detail")).isDisplayed());
        assertEquals(id, text("dl-detail-id"));
        assertTrue(text("dl-detail-history").contains("attempts"), text("dl-detail-history"));
        assertTrue(text("dl-detail-data").contains("failUntilFixed"), text("dl-detail-data"));
        assertTrue(text("dl-detail-headers").contains("eventline-reason"), text("dl-detail-headers"));

        ledger.fix(id);
        browser.findElement(By.cssSelector("#dl-rows tr[data-id='" + id + "'] input.pick")).click();
        browser.findElement(By.id("dl-replay-selected")).click();
        await().atMost(Duration.ofSeconds(20)).until(() -> text("dl-message").startsWith("Replayed 1 of 1"));
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.applied(id) == 1);
        await().atMost(Duration.ofSeconds(20)).until(() -> listedIds().isEmpty());
        assertEquals(1, Faults.deadLetters("flaky", Map.of("id", other)).path("matched").asInt(),
                "only the ticked event was replayed");
        Faults.admin("flaky", "purge", Map.of("ids", List.of(other), "confirm", "flaky"));
    }

    @Test
    void aPurgeWithoutItsConfirmationIsRefusedAndDeletesNothing() {
        String id = "console-purge-" + run;
        String key = "purge-key-" + run;
        refusedAndListed(id, key);
        browser.findElement(By.id("dl-purge-matching")).click();
        await().atMost(Duration.ofSeconds(10)).until(() -> browser.findElement(By.id("dl-confirm")).isDisplayed());
        assertTrue(text("dl-confirm-text").contains("key \"" + key + "\""), text("dl-confirm-text"));

        browser.findElement(By.id("dl-confirm-go")).click(); // nothing typed
        await().atMost(Duration.ofSeconds(20)).until(() -> text("dl-message").startsWith("Failed: 400"));
        assertTrue(text("dl-message").contains("confirm"), text("dl-message"));
        browser.executeScript("document.getElementById('dl-message').textContent = ''");
        browser.findElement(By.id("dl-confirm-input")).sendKeys("fragile"); // another function's name
        browser.findElement(By.id("dl-confirm-go")).click();
        await().atMost(Duration.ofSeconds(20)).until(() -> text("dl-message").startsWith("Failed: 400"));
        assertEquals(1, Faults.deadLetters("flaky", Map.of("id", id)).path("matched").asInt(), "nothing was purged");
        assertEquals(List.of(id), listedIds());

        browser.findElement(By.id("dl-confirm-input")).clear();
        browser.findElement(By.id("dl-confirm-input")).sendKeys("flaky");
        browser.findElement(By.id("dl-confirm-go")).click();
        await().atMost(Duration.ofSeconds(20)).until(() -> text("dl-message").startsWith("Purged 1 of 1"));
        assertEquals(0, Faults.deadLetters("flaky", Map.of("id", id)).path("matched").asInt());
    }

    @Test
    void markupInAnEventIsShownAsTextNeverRun() {
        String id = "console-markup-" + run;
        String key = "<img src=x onerror=\"window.pwned=1\">-" + run;
        refusedAndListed(id, key);
        browser.findElement(By.cssSelector("#dl-rows tr[data-id='" + id + "'] button")).click();
        await().atMost(Duration.ofSeconds(20)).until(() -> browser.findElement(By.id("dl-detail")).isDisplayed());

        assertTrue(text("dl-rows").contains(key), "the key is shown as it is: " + text("dl-rows"));
        assertTrue(text("dl-detail-history").contains(key), text("dl-detail-history"));
        assertEquals(0L, browser.executeScript("return document.querySelectorAll('#main img').length"));
        assertEquals(null, browser.executeScript("return window.pwned === undefined ? null : window.pwned"));
        Faults.admin("flaky", "purge", Map.of("ids", List.of(id), "confirm", "flaky"));
    }

    /** An event its handler refuses at once (dead-lettered), then listed on the page by its key. */
    private void refusedAndListed(String id, String key) {
        new GateClient(events).deliver(List.of(GateClient.event(id, "fault.strict", key,
                new Script(0, false, true, false, 0, false, 0))), 5);
        Faults.awaitDeadLetter("flaky", id);
        openConsole();
        search("flaky", key);
        await().atMost(Duration.ofSeconds(20)).until(() -> listedIds().equals(List.of(id)));
    }

    private void openConsole() {
        browser.get(console.toString());
        signIn(FaultProfile.TOKEN);
        await().atMost(Duration.ofSeconds(20)).until(() -> browser.findElement(By.id("main")).isDisplayed());
        await().atMost(Duration.ofSeconds(20)).until(() -> !browser.findElements(function("flaky")).isEmpty());
    }

    private void signIn(String token) {
        WebElement field = browser.findElement(By.id("token"));
        field.clear();
        field.sendKeys(token);
        browser.findElement(By.id("sign-in")).click();
    }

    private void search(String fn, String key) {
        await().atMost(Duration.ofSeconds(20)).until(() -> browser.findElements(
                By.cssSelector("#dl-function option[value='" + fn + "']")).size() == 1);
        browser.findElement(By.cssSelector("#dl-function option[value='" + fn + "']")).click();
        browser.findElement(By.id("dl-key")).clear();
        browser.findElement(By.id("dl-key")).sendKeys(key);
        browser.findElement(By.id("dl-search")).click();
    }

    private static By function(String name) {
        return By.cssSelector("article[data-function='" + name + "']");
    }

    private String text(String id) {
        return browser.findElement(By.id(id)).getText();
    }

    /** The depth the page shows for a partition; -1 while it shows none. The page is re-rendered every second. */
    private long depth(String fn, int partition) {
        try {
            String shown = browser.findElement(function(fn)).findElement(By.cssSelector(
                    "tr[data-partition='" + partition + "'] [data-depth]")).getAttribute("data-depth");
            return Long.parseLong(shown);
        } catch (NoSuchElementException | StaleElementReferenceException | NumberFormatException e) {
            return -1;
        }
    }

    private String cell(String fn, int partition, int column) {
        try {
            return browser.findElement(function(fn)).findElements(By.cssSelector(
                    "tr[data-partition='" + partition + "'] td")).get(column).getText();
        } catch (NoSuchElementException | StaleElementReferenceException | IndexOutOfBoundsException e) {
            return "";
        }
    }

    @SuppressWarnings("unchecked")
    private List<String> listedIds() {
        return (List<String>) ((JavascriptExecutor) browser).executeScript(
                "return Array.from(document.querySelectorAll('#dl-rows tr')).map(r => r.dataset.id)");
    }
}
