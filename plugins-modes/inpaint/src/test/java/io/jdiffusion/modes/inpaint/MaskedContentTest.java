package io.jdiffusion.modes.inpaint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.jdiffusion.api.RgbImage;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class MaskedContentTest {
    static final int W = 32, H = 16, N = W * H;

    /** Red left half, blue right half. */
    static RgbImage redBlue() {
        float[] rgb = new float[3 * N];
        for (int i = 0; i < N; i++) {
            boolean left = i % W < W / 2;
            rgb[i] = left ? 1f : 0f;
            rgb[2 * N + i] = left ? 0f : 1f;
        }
        return new RgbImage(W, H, rgb);
    }

    /** 1 on the left half. */
    static float[] leftMask() {
        float[] m = new float[N];
        for (int i = 0; i < N; i++) m[i] = i % W < W / 2 ? 1f : 0f;
        return m;
    }

    @Test
    void fillPaintsTheMaskedAreaWithTheSurroundingsAndKeepsTheRest() {
        RgbImage filled = MaskedContent.fill(redBlue(), leftMask());
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                // the only colour around the masked half is blue: no red survives anywhere
                assertEquals(0f, filled.get(0, x, y), 1e-4, "red at " + x + "," + y);
                assertEquals(1f, filled.get(2, x, y), 1e-4, "blue at " + x + "," + y);
            }
        }
        RgbImage init = redBlue();
        assertSame(init, MaskedContent.ORIGINAL.fillImage(init, leftMask()), "original: the image as it is");
        // latent noise and nothing fill the pixels too (A1111 fills for every option but original)
        assertEquals(0f, MaskedContent.LATENT_NOISE.fillImage(init, leftMask()).get(0, 0, 0), 1e-4);
    }

    @Test
    void latentOptionsReplaceOnlyTheMaskedLatents() {
        float[] encoded = {1, 2, 3, 4, 5, 6, 7, 8}; // 2 channels x 4 latents
        float[] latentMask = {1, 0, 0, 1};
        float[] noise = {-1, -2, -3, -4, -5, -6, -7, -8};
        assertSame(encoded, MaskedContent.ORIGINAL.startLatents(encoded, latentMask, noise));
        assertSame(encoded, MaskedContent.FILL.startLatents(encoded, latentMask, noise));
        assertArrayEquals(new float[] {0, 2, 3, 0, 0, 6, 7, 0}, MaskedContent.LATENT_NOTHING.startLatents(encoded, latentMask, noise));
        assertArrayEquals(new float[] {-1, 2, 3, -4, -5, 6, 7, -8}, MaskedContent.LATENT_NOISE.startLatents(encoded, latentMask, noise));
        assertEquals("latent noise", MaskedContent.of(2).label);
        assertEquals(MaskedContent.FILL, MaskedContent.of(0));
    }

    @Test
    void inpaintingChannelsAreTheNearestMaskThenTheMaskedImageLatents() {
        float[] mask = new float[N];
        for (int i = 0; i < N; i++) mask[i] = i % W < 9 ? 0.6f : 0.4f; // binarised at 0.5: columns 0..8 repainted
        AtomicReference<RgbImage> seen = new AtomicReference<>();
        float[] ch = InpaintingConditioning.channels(redBlue(), mask, 8, img -> {
            seen.set(img);
            float[] lat = new float[4 * 8]; // 4 channels x (2 x 4) latents: red of each block's top-left pixel
            for (int c = 0; c < 4; c++)
                for (int p = 0; p < 8; p++) lat[c * 8 + p] = img.get(0, (p % 4) * 8, (p / 4) * 8) + c;
            return lat;
        });
        assertEquals(8 + 32, ch.length);
        // nearest: latent column j takes pixel column 8 j: column 1 (pixel 8) is repainted, 2 (pixel 16) is not
        assertArrayEquals(new float[] {1, 1, 0, 0, 1, 1, 0, 0}, java.util.Arrays.copyOf(ch, 8));
        assertEquals(0.5f, seen.get().get(0, 8, 3), 0f, "masked pixels are 0 in [-1, 1]");
        assertEquals(0.5f, seen.get().get(2, 8, 3), 0f);
        assertEquals(1f, seen.get().get(0, 9, 3), 0f, "kept pixels stay as they were (red)");
        assertEquals(0.5f, ch[8], 0f, "the encoder's output follows the mask");
        assertEquals(1f, ch[8 + 8 + 2], 0f, "channel 1 of the block at pixel (16, 0): blue, red 0, + 1");
    }
}
