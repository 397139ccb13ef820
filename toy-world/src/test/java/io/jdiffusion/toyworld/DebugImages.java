package io.jdiffusion.toyworld;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Not a test: writes a gallery of PNGs (one per shape, plus a few open prompts) for a person to look at.
 * {@code mvn -pl toy-world test -Dtest=DebugImages -Dtoy.gallery=/tmp/gallery -Dsurefire.failIfNoSpecifiedTests=false}
 */
@EnabledIfSystemProperty(named = "toy.gallery", matches = ".+")
class DebugImages {
    static void save(float[] img, int w, int h, Path file) throws Exception {
        BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int plane = w * h;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int[] c = new int[3];
                for (int k = 0; k < 3; k++)
                    c[k] = (int) Math.round(Math.max(0, Math.min(255, (img[k * plane + y * w + x] + 1) * 127.5)));
                bi.setRGB(x, y, (c[0] << 16) | (c[1] << 8) | c[2]);
            }
        ImageIO.write(bi, "png", file.toFile());
    }

    @Test
    void gallery() throws Exception {
        Path out = Files.createDirectories(Path.of(System.getProperty("toy.gallery")));
        ToyFixture f = ToyFixture.get();
        String[] colours = {"red", "orange", "yellow", "green", "blue", "purple", "white", "black"};
        for (int s = 0; s < World.SHAPES.size(); s++) {
            String p = "a " + colours[s] + " " + World.SHAPES.get(s) + " on a " + colours[(s + 3) % 8] + " background";
            save(f.generate(p, 512, 512, s, 20, 7.5), 512, 512, out.resolve(p.replace(' ', '_') + ".png"));
        }
        for (String p : new String[] {"", "a circle", "a red thing", "a star on a blue background"})
            for (int i = 0; i < 2; i++)
                save(f.generate(p, 768, 512, 100 + i, 20, 7.5), 768, 512, out.resolve("open_" + p.replace(' ', '_') + "_" + i + ".png"));
    }
}
