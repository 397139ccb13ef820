package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * From zero to your own sampler in the UI, in a real browser: the example plugin built with Maven is dropped
 * into the running server, the plugins tab shows its bundle (and a broken jar in red), and the txt2img tab
 * then offers it and generates with it.
 */
@Timeout(600)
class PluginsViewBrowserTest {
    @TempDir
    Path temp;

    @Test
    void aDroppedInSamplerShowsUpInThePluginsTabAndGenerates() throws Exception {
        BrowserTest.requireChromium();
        Path jar = ExamplePlugin.copy("my-sampler-browser").startBuild().jar();
        Path plugins = Files.createTempDirectory(SdServer.targetDir(), "ui-plugins-");
        Files.writeString(plugins.resolve("junk.jar"), "not a jar");
        try (SdServer server = SdServer.start(ToyModel.dir(), plugins)) {
            WebDriver driver = BrowserTest.chromium(Files.createDirectories(temp.resolve("chromium-profile")));
            try {
                driver.get(server.baseUrl());
                ExamplePlugin.drop(jar, plugins, "my-sampler.jar");

                // the plugins tab lists the new bundle (re-opening the tab reloads the list)
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
                WebElement row = wait.withMessage("the plugins tab never listed com.example.mysampler").until(d -> {
                    d.findElement(By.cssSelector(".tab[data-tab='plugins']")).click();
                    BrowserTest.sleep(300);
                    for (WebElement r : d.findElements(By.cssSelector("#list-bundles .bundle"))) {
                        if ("com.example.mysampler".equals(r.getDomAttribute("data-bundle")) && r.getText().contains("ACTIVE")) return r;
                    }
                    return null;
                });
                String text = row.getText();
                assertTrue(text.contains("1.0.0") && text.contains("Sampler my_sampler (My Sampler)"), text);
                WebElement junk = driver.findElement(By.cssSelector("#list-bundles .bundle[data-bundle='junk.jar']"));
                assertTrue(junk.getDomAttribute("class").contains("broken") && junk.getText().contains("NOT_INSTALLED")
                        && junk.getText().contains("not a readable jar"), junk.getText());
                BrowserTest.screenshot(driver, SdServer.targetDir().resolve("browser-plugins-tab.png"));

                // back on txt2img the sampler list is fresh: pick My Sampler and generate
                driver.findElement(By.cssSelector(".tab[data-tab='txt2img']")).click();
                wait.withMessage("the sampler select never offered My Sampler").until(d ->
                        new Select(d.findElement(By.id("sampler"))).getOptions().stream()
                                .anyMatch(o -> "my_sampler".equals(o.getDomProperty("value"))));
                new Select(driver.findElement(By.id("sampler"))).selectByValue("my_sampler");
                WebElement prompt = driver.findElement(By.id("prompt"));
                prompt.clear();
                prompt.sendKeys("a red circle on a white background");
                driver.findElement(By.id("generate")).click();
                BrowserTest.awaitResultImage(driver);
                String info = driver.findElement(By.id("result-info")).getText();
                assertTrue(info.contains("My Sampler"), info);
            } finally {
                BrowserTest.screenshot(driver, SdServer.targetDir().resolve("browser-plugins.png"));
                driver.quit();
            }
        }
    }
}
