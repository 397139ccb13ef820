package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The live token counts in a real browser: one beside the prompt box and one beside the negative prompt box,
 * each following its own text as a person types (GET /api/v1/tokens), the other one staying put.
 */
class TokenCountBrowserTest {
    @TempDir
    Path temp;

    @Test
    void bothPromptBoxesCountTheirTokensAsYouType() throws Exception {
        BrowserTest.requireChromium();
        Path plugins = Files.createTempDirectory(SdServer.targetDir(), "plugins-");
        try (SdServer server = SdServer.start(ToyModel.dir(), plugins)) {
            WebDriver driver = BrowserTest.chromium(Files.createDirectories(temp.resolve("chromium-profile")));
            try {
                driver.get(server.baseUrl());
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
                // an empty box counts 0 of 75
                wait.withMessage("the prompt's count never showed").until(d -> text(d, "token-count").equals("0/75"));
                wait.withMessage("the negative prompt's count never showed").until(d -> text(d, "negative-token-count").equals("0/75"));

                type(driver, "prompt", "a red circle on a white background");
                String prompt = expected(server, "a red circle on a white background");
                wait.withMessage("the prompt's count did not follow the typing").until(d -> text(d, "token-count").equals(prompt));
                assertEquals("0/75", text(driver, "negative-token-count"), "typing in the prompt leaves the negative count");

                type(driver, "negative-prompt", "blue");
                String negative = expected(server, "blue");
                assertNotEquals(prompt, negative);
                wait.withMessage("the negative prompt's count did not follow the typing")
                        .until(d -> text(d, "negative-token-count").equals(negative));
                assertEquals(prompt, text(driver, "token-count"), "typing in the negative prompt leaves the prompt's count");

                type(driver, "negative-prompt", " square, green triangle");
                String longer = expected(server, "blue square, green triangle");
                wait.withMessage("the negative prompt's count did not follow more typing")
                        .until(d -> text(d, "negative-token-count").equals(longer));
            } finally {
                BrowserTest.screenshot(driver, SdServer.targetDir().resolve("browser-token-counts.png"));
                driver.quit();
            }
        }
    }

    /** What the page should show for this text: the API's count out of 75 (or the next multiple of 75). */
    private static String expected(SdServer server, String text) throws Exception {
        Http.Response r = Http.get(server.baseUrl() + "api/v1/tokens?prompt=" + java.net.URLEncoder.encode(text,
                java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(200, r.status(), r.body());
        int n = r.json().path("tokens").asInt();
        return n + "/" + Math.max(75, (n + 74) / 75 * 75);
    }

    private static void type(WebDriver driver, String id, String text) {
        WebElement box = driver.findElement(By.id(id));
        box.sendKeys(text);
    }

    private static String text(WebDriver driver, String id) {
        return driver.findElement(By.id(id)).getText().trim();
    }
}
