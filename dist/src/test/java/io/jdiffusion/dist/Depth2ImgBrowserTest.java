package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdiffusion.toyworld.World;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The depth tab in headless Chromium against the real server with the toy depth model: choose a red circle on
 * white, preview the estimated depth, ask for a green circle on black, and check the result's pixels in the page.
 */
class Depth2ImgBrowserTest {
    @TempDir
    Path temp;

    @Test
    void depthTabKeepsTheCircleAndTakesTheNewColours() throws Exception {
        BrowserTest.requireChromium();
        Path init = temp.resolve("red-circle.png");
        Files.write(init, Depth2ImgEndToEndTest.picture("circle", "red", "white", 256));
        Path models = ToyModel.depthModels();
        try (SdServer server = SdServer.start(Files.createTempDirectory(SdServer.targetDir(), "plugins-"), Map.of(),
                "--model", models.resolve("toy-depth").toString(), "--models-dir", models.toString())) {
            WebDriver driver = BrowserTest.chromium(Files.createDirectories(temp.resolve("chromium-profile")));
            try {
                driver.get(server.baseUrl());
                run(driver, init);
            } finally {
                BrowserTest.screenshot(driver, SdServer.targetDir().resolve("browser-depth2img.png"));
                driver.quit();
            }
        }
    }

    private static void run(WebDriver driver, Path init) {
        JavascriptExecutor js = (JavascriptExecutor) driver;
        WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
        WebElement tab = driver.findElement(By.cssSelector(".tab[data-tab='depth2img']"));
        assertTrue(tab.isEnabled(), "the depth tab is enabled");
        tab.click();
        assertTrue(driver.findElement(By.id("depth-inputs")).isDisplayed(), "the depth inputs show on the depth tab");
        assertTrue(driver.findElement(By.id("img2img-inputs")).isDisplayed(), "with the init image input");
        assertTrue(!driver.findElement(By.id("inpaint-inputs")).isDisplayed(), "but not the mask");

        driver.findElement(By.id("init-image")).sendKeys(init.toAbsolutePath().toString());
        wait.withMessage("no preview of the chosen init image")
                .until(d -> Boolean.TRUE.equals(((JavascriptExecutor) d).executeScript(
                        "const p = document.getElementById('init-preview');"
                                + " return !p.hidden && p.complete && p.naturalWidth > 0;")));

        // the depth preview: the circle near (bright), the background far (dark)
        driver.findElement(By.id("depth-estimate")).click();
        wait.withMessage("no depth preview").until(d -> Boolean.TRUE.equals(((JavascriptExecutor) d).executeScript(
                "const p = document.getElementById('depth-estimate-preview');"
                        + " return !p.hidden && p.complete && p.naturalWidth > 0;")));
        @SuppressWarnings("unchecked")
        Map<String, Object> depth = (Map<String, Object>) js.executeScript(pixelsOf("depth-estimate-preview"));
        assertTrue(BrowserTest.rgb(depth.get("centre")).get(0) > 200, "near centre: " + depth);
        assertTrue(BrowserTest.rgb(depth.get("corner")).get(0) < 20, "far corner: " + depth);

        BrowserTest.type(driver, "prompt", "a green circle on a black background");
        BrowserTest.type(driver, "seed", "1");
        BrowserTest.type(driver, "width", "256");
        BrowserTest.type(driver, "height", "256");
        BrowserTest.type(driver, "strength", "0.9");
        BrowserTest.selectEuler(driver, wait);
        driver.findElement(By.id("generate")).click();

        BrowserTest.awaitResultImage(driver);
        @SuppressWarnings("unchecked")
        Map<String, Object> pixels = (Map<String, Object>) js.executeScript(pixelsOf("result-image"));
        String info = driver.findElement(By.id("result-info")).getText();
        assertEquals(256L, ((Number) pixels.get("width")).longValue(), info);
        assertEquals("green", colour(pixels.get("centre")), info);
        assertEquals("black", colour(pixels.get("corner")), info);
        assertEquals("green", colour(pixels.get("inCircle")), "inside the circle's radius: " + info);
        assertEquals("black", colour(pixels.get("outCircle")), "outside the circle, inside a square: " + info);
        assertTrue(info.contains("Depth map: estimated") && info.contains("Denoising strength: 0.9"), info);
    }

    /** Pixels of an image element: centre, a corner, a point inside the toy circle and one outside it. */
    private static String pixelsOf(String id) {
        return """
                const img = document.getElementById('%s');
                const w = img.naturalWidth, h = img.naturalHeight;
                const c = document.createElement('canvas');
                c.width = w; c.height = h;
                const g = c.getContext('2d');
                g.drawImage(img, 0, 0);
                const at = (x, y) => Array.from(g.getImageData(Math.round(x), Math.round(y), 1, 1).data.slice(0, 3));
                return {width: w, centre: at(w / 2, h / 2), corner: at(6, 6),
                        inCircle: at(w / 2 + 0.28 * w, h / 2), outCircle: at(w / 2 + 0.24 * w, h / 2 + 0.24 * h)};"""
                .formatted(id);
    }

    private static String colour(Object rgb) {
        List<Long> c = BrowserTest.rgb(rgb);
        return World.nearestColour(c.get(0).intValue(), c.get(1).intValue(), c.get(2).intValue());
    }
}
