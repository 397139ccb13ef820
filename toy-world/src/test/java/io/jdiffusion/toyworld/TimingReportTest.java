package io.jdiffusion.toyworld;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

/**
 * Prints timings (never asserts them): UNet call at 512x512 batch 2, text encoder, VAE decode, 20-step txt2img.
 * Medians, since the build machine may be shared.
 */
class TimingReportTest {
    interface Call {
        void run() throws Exception;
    }

    static double medianMs(int n, Call c) throws Exception {
        for (int i = 0; i < 3; i++) c.run();
        double[] t = new double[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            c.run();
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(t);
        return t[n / 2];
    }

    @Test
    void report() throws Exception {
        ToyFixture f = ToyFixture.get();
        int h = 64, w = 64, len = 4 * h * w;
        float[] x = new float[2 * len];
        Random r = new Random(1);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        float[] ehs = f.encode("", "a red circle on a white background");
        double unet = medianMs(31, () -> f.unet(x, 2, h, w, new float[] {500f, 500f}, ehs, 77));
        double text = medianMs(31, () -> f.encode("", "a red circle on a white background"));
        float[] z = new float[len];
        double dec = medianMs(31, () -> f.decode(z, 1, h, w));
        double gen = medianMs(5, () -> f.generate("a blue star on a yellow background", 512, 512, 2, 20, 7.5));
        System.out.printf("timings (median, %d cores): UNet 512x512 batch 2: %.2f ms/call; text encoder batch 2: %.2f ms;"
                        + " VAE decode 512x512: %.2f ms; 20-step DDIM+CFG txt2img 512x512 incl. text + decode: %.0f ms%n",
                Runtime.getRuntime().availableProcessors(), unet, text, dec, gen);
    }
}
