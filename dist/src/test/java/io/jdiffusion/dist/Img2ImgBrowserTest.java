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
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The img2img and inpaint tabs in headless Chromium against the real server: choose a red-square PNG
 * (and a mask over the centre), ask for a blue square at strength 0.8, and check the pixels of the
 * result in the page.
 */
class Img2ImgBrowserTest {
    @TempDir
    Path temp;

    @Test
    void img2imgTabRepaintsARedSquareBlue() throws Exception {
        BrowserTest.requireChromium();
        Path init = temp.resolve("red-square.png");
        Files.write(init, Img2ImgEndToEndTest.redSquareOnWhite(256));
        try (SdServer server = SdServer.start(ToyModel.dir(), Files.createTempDirectory(SdServer.targetDir(), "plugins-"))) {
            WebDriver driver = BrowserTest.chromium(Files.createDirectories(temp.resolve("chromium-profile")));
            try {
                driver.get(server.baseUrl());
                run(driver, init);
            } finally {
                BrowserTest.screenshot(driver, SdServer.targetDir().resolve("browser-img2img.png"));
                driver.quit();
            }
        }
    }

    /** Select-all and type, as a person does: clear() would fire a change that snaps an empty size back to 512. */
    @Test
    void inpaintTabRepaintsOnlyTheMaskedSquare() throws Exception {
        BrowserTest.requireChromium();
        Path init = temp.resolve("red-square.png");
        Files.write(init, Img2ImgEndToEndTest.redSquareOnWhite(InpaintEndToEndTest.SIDE));
        Path mask = temp.resolve("mask.png");
        Files.write(mask, InpaintEndToEndTest.centreMask(InpaintEndToEndTest.SIDE, InpaintEndToEndTest.MARGIN));
        try (SdServer server = SdServer.start(ToyModel.dir(), Files.createTempDirectory(SdServer.targetDir(), "plugins-"))) {
            WebDriver driver = BrowserTest.chromium(Files.createDirectories(temp.resolve("chromium-profile-inpaint")));
            try {
                driver.get(server.baseUrl());
                driver.findElement(By.cssSelector(".tab[data-tab='inpaint']")).click();
                assertTrue(driver.findElement(By.id("inpaint-inputs")).isDisplayed(), "the mask input shows on the inpaint tab");
                driver.findElement(By.id("mask-image")).sendKeys(mask.toAbsolutePath().toString());
                new WebDriverWait(driver, Duration.ofSeconds(30)).withMessage("no preview of the mask")
                        .until(d -> Boolean.TRUE.equals(((JavascriptExecutor) d).executeScript(
                                "const p = document.getElementById('mask-preview'); return !p.hidden && p.naturalWidth > 0;")));
                run(driver, init);
                String info = driver.findElement(By.id("result-info")).getText();
                assertTrue(info.contains("Mode: inpaint") && info.contains("Mask blur: 4"), info);
            } finally {
                BrowserTest.screenshot(driver, SdServer.targetDir().resolve("browser-inpaint.png"));
                driver.quit();
            }
        }
    }

    @Test
    void inpaintWithAMaskPaintedOnTheImage() throws Exception {
        BrowserTest.requireChromium();
        Path init = temp.resolve("red-square.png");
        Files.write(init, Img2ImgEndToEndTest.redSquareOnWhite(InpaintEndToEndTest.SIDE));
        try (SdServer server = SdServer.start(ToyModel.dir(), Files.createTempDirectory(SdServer.targetDir(), "plugins-"))) {
            WebDriver driver = BrowserTest.chromium(Files.createDirectories(temp.resolve("chromium-profile-paint")));
            try {
                driver.get(server.baseUrl());
                driver.findElement(By.cssSelector(".tab[data-tab='inpaint']")).click();
                driver.findElement(By.id("init-image")).sendKeys(init.toAbsolutePath().toString());
                WebElement canvas = new WebDriverWait(driver, Duration.ofSeconds(30)).withMessage("no canvas to paint on")
                        .until(d -> {
                            WebElement c = d.findElement(By.id("mask-canvas"));
                            return c.isDisplayed() && c.getSize().getWidth() > 0 ? c : null;
                        });
                BrowserTest.type(driver, "brush-size", "64");
                // three strokes across the centre, 64 px wide: they cover the square (64..192) but not the corners
                int w = canvas.getSize().getWidth();
                int h = canvas.getSize().getHeight();
                double scale = (double) w / InpaintEndToEndTest.SIDE;
                for (int y : new int[] {80, 128, 176}) {
                    new Actions(driver)
                            .moveToElement(canvas, (int) ((56 - 128) * scale), (int) ((y - 128) * scale * h / w))
                            .clickAndHold()
                            .moveByOffset((int) (72 * scale), 0)
                            .moveByOffset((int) (72 * scale), 0)
                            .release()
                            .perform();
                }
                run(driver, init);
                String info = driver.findElement(By.id("result-info")).getText();
                assertTrue(info.contains("Mode: inpaint"), info);
            } finally {
                BrowserTest.screenshot(driver, SdServer.targetDir().resolve("browser-inpaint-painted.png"));
                driver.quit();
            }
        }
    }

    private static void run(WebDriver driver, Path init) {
        JavascriptExecutor js = (JavascriptExecutor) driver;
        WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
        if (driver.findElements(By.cssSelector(".tab.active[data-tab='inpaint']")).isEmpty()) {
            driver.findElement(By.cssSelector(".tab[data-tab='img2img']")).click();
        }
        assertTrue(driver.findElement(By.id("img2img-inputs")).isDisplayed(), "the init image input shows");
        assertTrue(driver.findElement(By.id("prompt")).isDisplayed(), "the img2img tab reuses the prompt and settings");

        driver.findElement(By.id("init-image")).sendKeys(init.toAbsolutePath().toString());
        wait.withMessage("no preview of the chosen init image")
                .until(d -> Boolean.TRUE.equals(((JavascriptExecutor) d).executeScript(
                        "const p = document.getElementById('init-preview');"
                                + " return !p.hidden && p.complete && p.naturalWidth > 0;")));

        BrowserTest.type(driver, "prompt", "a blue square on a white background");
        BrowserTest.type(driver, "seed", "1");
        BrowserTest.type(driver, "width", "256");
        BrowserTest.type(driver, "height", "256");
        BrowserTest.type(driver, "strength", "0.8");
        BrowserTest.selectEuler(driver, wait);
        driver.findElement(By.id("generate")).click();

        BrowserTest.awaitResultImage(driver);
        @SuppressWarnings("unchecked")
        Map<String, Object> pixels = (Map<String, Object>) js.executeScript("""
                const img = document.getElementById('result-image');
                const w = img.naturalWidth, h = img.naturalHeight;
                const c = document.createElement('canvas');
                c.width = w; c.height = h;
                const g = c.getContext('2d');
                g.drawImage(img, 0, 0);
                const at = (x, y) => Array.from(g.getImageData(x, y, 1, 1).data.slice(0, 3));
                return {width: w, centre: at(w >> 1, h >> 1), corner: at(6, 6)};""");
        String info = driver.findElement(By.id("result-info")).getText();
        assertEquals(256L, ((Number) pixels.get("width")).longValue(), info);
        assertEquals("blue", colour(pixels.get("centre")), info);
        assertEquals("white", colour(pixels.get("corner")), info);
        assertTrue(info.contains("Denoising strength: 0.8"), info);
    }

    private static String colour(Object rgb) {
        List<Long> c = BrowserTest.rgb(rgb);
        return World.nearestColour(c.get(0).intValue(), c.get(1).intValue(), c.get(2).intValue());
    }
}
