package dev.eventline.testsupport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * A headless Chromium from the system's packages ({@code apt-get install chromium chromium-driver}; {@code .ci/run}
 * installs them), driven through its own chromedriver: nothing is downloaded. {@code CHROME_BINARY} and
 * {@code CHROMEDRIVER} name others.
 */
public final class Browser {

    private Browser() {
    }

    public static ChromeDriver start() {
        Path chrome = find("CHROME_BINARY", "chromium", "chromium-browser", "google-chrome").orElseThrow(() ->
                new IllegalStateException("the console's browser tests need Chromium: apt-get install chromium "
                        + "chromium-driver (or set CHROME_BINARY and CHROMEDRIVER)"));
        Path driver = find("CHROMEDRIVER", "chromedriver").orElseThrow(() -> new IllegalStateException(
                "the console's browser tests need chromedriver: apt-get install chromium-driver (or set CHROMEDRIVER)"));
        ChromeOptions options = new ChromeOptions().setBinary(chrome.toFile())
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                        "--window-size=1400,1000", "--no-first-run", "--disable-extensions");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driver.toFile())
                .usingAnyFreePort().build();
        ChromeDriver browser = new ChromeDriver(service, options);
        browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
        return browser;
    }

    private static Optional<Path> find(String variable, String... names) {
        String named = System.getenv(variable);
        if (named != null && !named.isBlank()) {
            return Optional.of(Path.of(named)).filter(Files::isExecutable);
        }
        List<Path> dirs = Stream.of(System.getenv().getOrDefault("PATH", "/usr/bin").split(":"))
                .map(Path::of).toList();
        for (String name : names) {
            for (Path dir : dirs) {
                Path p = dir.resolve(name);
                if (Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }
}
