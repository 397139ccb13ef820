package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web UI in a real browser against the real server on the toy model: type a prompt, set the seed,
 * pick Euler, generate, and check the picture's pixels in the page (a red circle on white).
 * Needs Debian's headless Chromium and its driver ({@code apt-get install chromium chromium-driver}).
 */
class BrowserTest {
    static final Path CHROMIUM = Path.of(System.getProperty("sd.chromium", "/usr/bin/chromium"));
    static final Path CHROMEDRIVER = Path.of(System.getProperty("sd.chromedriver", "/usr/bin/chromedriver"));
    static final Duration GENERATION_TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    Path temp;

    @Test
    void txt2imgInTheBrowserDrawsARedCircleOnWhite() throws Exception {
        requireChromium();
        Path plugins = Files.createTempDirectory(SdServer.targetDir(), "plugins-");
        try (SdServer server = SdServer.start(ToyModel.dir(), plugins)) {
            WebDriver driver = chromium(Files.createDirectories(temp.resolve("chromium-profile")));
            try {
                driver.get(server.baseUrl());
                txt2img(driver);
            } finally {
                screenshot(driver, SdServer.targetDir().resolve("browser-txt2img.png"));
                driver.quit();
            }
        }
    }

    /** Fills in the form as a person would, generates, and checks the first image. */
    static void txt2img(WebDriver driver) {
        JavascriptExecutor js = (JavascriptExecutor) driver;
        WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));

        WebElement prompt = driver.findElement(By.id("prompt"));
        prompt.clear();
        prompt.sendKeys("a red circle on a white background");
        WebElement seed = driver.findElement(By.id("seed"));
        seed.clear();
        seed.sendKeys("1");

        // the sampler list comes from GET /api/v1/samplers
        selectEuler(driver, wait);

        WebElement generate = driver.findElement(By.id("generate"));
        assertTrue(generate.isEnabled(), "#generate is disabled before any run");
        generate.click();

        awaitResultImage(driver);
        assertTrue(generate.isEnabled(), "#generate stays disabled after the run");

        @SuppressWarnings("unchecked")
        Map<String, Object> pixels = (Map<String, Object>) js.executeScript("""
                const img = document.getElementById('result-image');
                const w = img.naturalWidth, h = img.naturalHeight;
                const c = document.createElement('canvas');
                c.width = w; c.height = h;
                const g = c.getContext('2d');
                g.drawImage(img, 0, 0);
                // mean RGB of a 5x5 patch centred on (x, y)
                const at = (x, y) => {
                  const d = g.getImageData(x - 2, y - 2, 5, 5).data, m = [0, 0, 0];
                  for (let i = 0; i < d.length; i += 4) { m[0] += d[i]; m[1] += d[i + 1]; m[2] += d[i + 2]; }
                  return m.map(v => Math.round(v / 25));
                };
                const k = 6;
                return {width: w, height: h, centre: at(w >> 1, h >> 1),
                        corners: [at(k, k), at(w - 1 - k, k), at(k, h - 1 - k), at(w - 1 - k, h - 1 - k)]};""");
        String where = " (image " + pixels.get("width") + "x" + pixels.get("height") + ", info: "
                + driver.findElement(By.id("result-info")).getText() + ")";
        assertEquals(512L, ((Number) pixels.get("width")).longValue(), "default width" + where);
        assertEquals(512L, ((Number) pixels.get("height")).longValue(), "default height" + where);
        List<Long> centre = rgb(pixels.get("centre"));
        assertTrue(centre.get(0) >= 170 && centre.get(1) <= 90 && centre.get(2) <= 90,
                "the centre should be red, is RGB " + centre + where);
        @SuppressWarnings("unchecked")
        List<Object> corners = (List<Object>) pixels.get("corners");
        for (Object corner : corners) {
            List<Long> c = rgb(corner);
            assertTrue(c.get(0) >= 200 && c.get(1) >= 200 && c.get(2) >= 200,
                    "the corners should be white, one is RGB " + c + where);
        }
        String info = driver.findElement(By.id("result-info")).getText();
        assertTrue(!info.isBlank(), "#result-info is empty");
    }

    /** Select-all and type, as a person does. */
    static void type(WebDriver driver, String id, String text) {
        driver.findElement(By.id(id)).sendKeys(Keys.chord(Keys.CONTROL, "a"), text, Keys.TAB);
    }

    /** Picks Euler in the sampler select once GET /api/v1/samplers has filled it. */
    static void selectEuler(WebDriver driver, WebDriverWait wait) {
        wait.withMessage("the sampler select never listed Euler (GET /api/v1/samplers)")
                .until(d -> eulerOption(new Select(d.findElement(By.id("sampler")))) != null);
        Select sampler = new Select(driver.findElement(By.id("sampler")));
        sampler.selectByValue(eulerOption(sampler).getDomProperty("value"));
    }

    /** Waits after Generate until #result-image has loaded; fails at once when the UI shows an error. */
    static void awaitResultImage(WebDriver driver) {
        JavascriptExecutor js = (JavascriptExecutor) driver;
        long deadline = System.nanoTime() + GENERATION_TIMEOUT.toNanos();
        while (true) {
            Object state = js.executeScript("""
                    const err = document.getElementById('error');
                    if (err && !err.hidden && err.textContent.trim()) return 'error: ' + err.textContent.trim();
                    const img = document.getElementById('result-image');
                    return img && img.complete && img.naturalWidth > 0 ? 'loaded' : 'waiting';""");
            if ("loaded".equals(state)) {
                return;
            }
            if (String.valueOf(state).startsWith("error: ")) {
                fail("the UI shows an error after Generate: " + state);
            }
            if (System.nanoTime() > deadline) {
                fail("no #result-image within " + GENERATION_TIMEOUT.toSeconds() + " s; status: "
                        + driver.findElement(By.id("status")).getText());
            }
            sleep(250);
        }
    }

    static WebElement eulerOption(Select sampler) {
        for (WebElement o : sampler.getOptions()) {
            if ("euler".equals(o.getDomProperty("value")) || "Euler".equals(o.getText().trim())) {
                return o;
            }
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    static List<Long> rgb(Object o) {
        return ((List<Object>) o).stream().map(v -> ((Number) v).longValue()).toList();
    }

    static void requireChromium() {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            fail("The browser test needs headless Chromium and its driver at " + CHROMIUM + " and " + CHROMEDRIVER
                    + ": install the Debian packages chromium and chromium-driver"
                    + " (apt-get update && apt-get install -y chromium chromium-driver)");
        }
    }

    /** Headless Chromium with the given driver and binary, so Selenium Manager never looks anything up. */
    static WebDriver chromium(Path profile) {
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1400,1150", "--user-data-dir=" + profile.toAbsolutePath());
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        return new ChromeDriver(service, options);
    }

    static void screenshot(WebDriver driver, Path target) {
        try {
            Files.createDirectories(target.getParent());
            ((JavascriptExecutor) driver).executeScript("window.scrollTo(0, 0)");
            Path shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath();
            Files.copy(shot, target, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            System.err.println("no screenshot: " + e);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
