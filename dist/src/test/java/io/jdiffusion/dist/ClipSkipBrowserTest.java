package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The "Clip skip" control in a real browser: at 1 (the default) the request leaves {@code clip_skip} out and the
 * infotext has no "Clip skip"; moved to 2 with the slider, the request carries {@code clip_skip: 2} and the server's
 * infotext says "Clip skip: 2"; a value the server refuses (13) marks the control as the culprit of the 400.
 * The page's fetch is wrapped to record the JSON bodies it posts, so the test reads what the UI really sent.
 */
class ClipSkipBrowserTest {
    @TempDir
    Path temp;

    @Test
    void clipSkipIsSentAndComesBackInTheInfotext() throws Exception {
        BrowserTest.requireChromium();
        Path plugins = Files.createTempDirectory(SdServer.targetDir(), "plugins-");
        try (SdServer server = SdServer.start(ToyModel.dir(), plugins)) {
            WebDriver driver = BrowserTest.chromium(Files.createDirectories(temp.resolve("chromium-profile")));
            JavascriptExecutor js = (JavascriptExecutor) driver;
            try {
                driver.get(server.baseUrl());
                new WebDriverWait(driver, Duration.ofSeconds(30)).withMessage("the sampler list never loaded")
                        .until(d -> d.findElement(By.id("sampler")).getDomProperty("value").length() > 0);
                js.executeScript("""
                        window.sentBodies = [];
                        const original = window.fetch;
                        window.fetch = (url, init) => {
                          if (init && init.method === 'POST') window.sentBodies.push(JSON.parse(init.body));
                          return original(url, init);
                        };""");
                type(driver, "prompt", "a red circle on a white background");
                type(driver, "seed", "7");
                type(driver, "steps", "4");
                type(driver, "width", "256");
                type(driver, "height", "256");
                assertEquals("1", value(driver, "clip-skip"), "Clip skip starts at 1 (the last layer)");

                generate(driver);
                Map<?, ?> first = lastBody(js);
                assertEquals(256L, ((Number) first.get("width")).longValue(), "the request: " + first);
                assertFalse(first.containsKey("clip_skip"), "at 1 the UI leaves clip_skip to the server: " + first);
                assertFalse(info(driver).contains("Clip skip"), info(driver));

                // one step right on the slider moves the number beside it, as for every slider of the form
                driver.findElement(By.id("clip-skip-range")).sendKeys(Keys.ARROW_RIGHT);
                assertEquals("2", value(driver, "clip-skip"), "the slider sets the number field");
                generate(driver);
                Map<?, ?> second = lastBody(js);
                assertEquals(2L, ((Number) second.get("clip_skip")).longValue(), "the request: " + second);
                assertTrue(info(driver).contains("Clip skip: 2"), "the infotext: " + info(driver));

                type(driver, "clip-skip", "13");
                generate(driver);
                assertEquals(13L, ((Number) lastBody(js).get("clip_skip")).longValue());
                String error = driver.findElement(By.id("error")).getText();
                assertTrue(error.contains("13") && error.contains("12"), "the error names the value and the limit: " + error);
                String classes = driver.findElement(By.id("clip-skip")).getDomAttribute("class");
                assertTrue(classes != null && classes.contains("invalid"), "the 400 marks #clip-skip: " + classes);
            } finally {
                BrowserTest.screenshot(driver, SdServer.targetDir().resolve("browser-clip-skip.png"));
                driver.quit();
            }
        }
    }

    /** Clicks Generate and waits for the run to end, done or failed (the status line says which). */
    private static void generate(WebDriver driver) {
        JavascriptExecutor js = (JavascriptExecutor) driver;
        js.executeScript("document.getElementById('status').textContent = ''");
        driver.findElement(By.id("generate")).click();
        new WebDriverWait(driver, BrowserTest.GENERATION_TIMEOUT).withMessage("the run never ended")
                .until(d -> {
                    String s = d.findElement(By.id("status")).getText();
                    return s.startsWith("Done") || s.startsWith("Failed");
                });
    }

    private static Map<?, ?> lastBody(JavascriptExecutor js) {
        Object body = js.executeScript("return window.sentBodies[window.sentBodies.length - 1] || null");
        assertTrue(body instanceof Map, "no POST was recorded: " + body);
        return (Map<?, ?>) body;
    }

    private static String info(WebDriver driver) {
        return driver.findElement(By.id("result-info")).getText();
    }

    private static String value(WebDriver driver, String id) {
        return driver.findElement(By.id(id)).getDomProperty("value");
    }

    private static void type(WebDriver driver, String id, String text) {
        WebElement box = driver.findElement(By.id(id));
        // select-all and type over: clear() would fire "change", which snaps an empty width back to 512 first
        box.sendKeys(Keys.chord(Keys.CONTROL, "a"), text);
    }
}
