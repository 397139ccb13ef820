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
 * The inpaint tab with the 9-channel toy inpainting model in headless Chromium: paint the mask over the left half
 * of a red square on white with the brush, pick "latent nothing" as masked content, generate, and check in the
 * page that the left half of the square turned blue while the right half of the image kept its pixels.
 */
class InpaintBrowserTest {
    static final int SIDE = 256;

    @TempDir
    Path temp;

    @Test
    void paintingHalfTheImageRepaintsOnlyThatHalf() throws Exception {
        BrowserTest.requireChromium();
        Path init = temp.resolve("red-square.png");
        Files.write(init, Img2ImgEndToEndTest.redSquareOnWhite(SIDE));
        try (SdServer server = SdServer.start(Files.createTempDirectory(SdServer.targetDir(), "plugins-"), Map.of(),
                "--model", ToyModel.dir().toString(), "--models-dir", ToyModel.modelsDir().toString())) {
            WebDriver driver = BrowserTest.chromium(Files.createDirectories(temp.resolve("chromium-profile-inpaint-half")));
            JavascriptExecutor js = (JavascriptExecutor) driver;
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
            try {
                driver.get(server.baseUrl());
                wait.withMessage("the model select never listed " + ToyModel.INPAINT_ID).until(d -> !d.findElements(
                        By.cssSelector("#model option[value='" + ToyModel.INPAINT_ID + "']")).isEmpty());
                new Select(driver.findElement(By.id("model"))).selectByValue(ToyModel.INPAINT_ID);
                driver.findElement(By.cssSelector(".tab[data-tab='inpaint']")).click();
                driver.findElement(By.id("init-image")).sendKeys(init.toAbsolutePath().toString());
                WebElement canvas = wait.withMessage("no canvas to paint on").until(d -> {
                    WebElement c = d.findElement(By.id("mask-canvas"));
                    return c.isDisplayed() && c.getSize().getWidth() > 0 ? c : null;
                });
                BrowserTest.type(driver, "brush-size", "64");
                // two vertical strokes, 64 px wide, at x = 32 and 96: the left half, up to x = 128
                int w = canvas.getSize().getWidth();
                int h = canvas.getSize().getHeight();
                double sx = (double) w / SIDE, sy = (double) h / SIDE;
                for (int x : new int[] {32, 96}) {
                    new Actions(driver)
                            .moveToElement(canvas, (int) ((x - SIDE / 2) * sx), (int) ((4 - SIDE / 2) * sy))
                            .clickAndHold()
                            .moveByOffset(0, (int) (124 * sy))
                            .moveByOffset(0, (int) (124 * sy))
                            .release()
                            .perform();
                }
                new Select(driver.findElement(By.id("inpainting-fill"))).selectByVisibleText("latent nothing");
                BrowserTest.type(driver, "prompt", "a blue square on a white background");
                BrowserTest.type(driver, "seed", "3");
                BrowserTest.type(driver, "width", String.valueOf(SIDE));
                BrowserTest.type(driver, "height", String.valueOf(SIDE));
                BrowserTest.type(driver, "strength", "1");
                driver.findElement(By.id("generate")).click();
                BrowserTest.awaitResultImage(driver);

                @SuppressWarnings("unchecked")
                Map<String, Object> px = (Map<String, Object>) js.executeScript("""
                        const img = document.getElementById('result-image');
                        const w = img.naturalWidth, h = img.naturalHeight;
                        const c = document.createElement('canvas');
                        c.width = w; c.height = h;
                        const g = c.getContext('2d');
                        g.drawImage(img, 0, 0);
                        const d = g.getImageData(0, 0, w, h).data;
                        const at = (x, y) => Array.from(d.slice((y * w + x) * 4, (y * w + x) * 4 + 3));
                        // the right half, clear of the mask's blurred edge: the init image's pixels exactly
                        const red = arguments[0], white = arguments[1];
                        let changed = 0;
                        for (let y = 0; y < h; y++) for (let x = (w >> 1) + 14; x < w; x++) {
                          const want = (x >= w / 4 && x < 3 * w / 4 && y >= h / 4 && y < 3 * h / 4) ? red : white;
                          const p = at(x, y);
                          if (p.some((v, i) => Math.abs(v - want[i]) > 1)) changed++;
                        }
                        return {width: w, leftSquare: at(98, 128), leftBackground: at(20, 128), topLeft: at(98, 20),
                                rightSquare: at(160, 128), changed: changed};""",
                        List.of(rgb("red")[0], rgb("red")[1], rgb("red")[2]),
                        List.of(rgb("white")[0], rgb("white")[1], rgb("white")[2]));
                String info = driver.findElement(By.id("result-info")).getText();
                assertEquals(256L, ((Number) px.get("width")).longValue(), info);
                assertEquals("blue", colour(px.get("leftSquare")), "the painted half of the square; " + info);
                assertEquals("white", colour(px.get("leftBackground")), info);
                assertEquals("white", colour(px.get("topLeft")), info);
                assertEquals("red", colour(px.get("rightSquare")), "the unpainted half of the square; " + info);
                assertEquals(0L, ((Number) px.get("changed")).longValue(), "changed pixels in the right half; " + info);
                assertTrue(info.contains("Mode: inpaint") && info.contains("Masked content: latent nothing"), info);
                assertTrue(info.contains(ToyModel.INPAINT_ID), info);
            } finally {
                BrowserTest.screenshot(driver, SdServer.targetDir().resolve("browser-inpaint-half.png"));
                driver.quit();
            }
        }
    }

    private static int[] rgb(String colour) {
        return World.rgb(colour);
    }

    private static String colour(Object rgb) {
        List<Long> c = BrowserTest.rgb(rgb);
        return World.nearestColour(c.get(0).intValue(), c.get(1).intValue(), c.get(2).intValue());
    }
}
