package io.jdiffusion.api.noise;

import io.jdiffusion.api.NoiseSource;

/**
 * AUTOMATIC1111's "NV" noise source (modules/rng_philox.py): a CPU imitation of
 * {@code torch.randn(..., device="cuda")} on NVIDIA GPUs, so seeds give GPU images on any machine.
 *
 * <p>Philox 4x32-10 with key (seed low 32 bits, seed high 32 bits) and, for element i of the
 * k-th {@code randn} call, counter (k, 0, i, 0); the first two output words make one normal value
 * by Box-Muller ({@code sqrt(-2 log u) sin v} with u, v the words scaled into (0, 1) and (0, 2 pi)),
 * computed in double as numpy does and rounded to float32.
 */
public final class NvPhiloxGenerator implements NoiseSource {
    private static final int PHILOX_M0 = 0xD2511F53;
    private static final int PHILOX_M1 = 0xCD9E8D57;
    private static final int PHILOX_W0 = 0x9E3779B9;
    private static final int PHILOX_W1 = 0xBB67AE85;
    // np.array([2.3283064e-10], dtype=np.float32) and np.array([2.3283064e-10 * 6.2831855], dtype=np.float32)
    private static final double TWO_POW32_INV = (float) 2.3283064e-10;
    private static final double TWO_POW32_INV_2PI = (float) (2.3283064e-10 * 6.2831855);

    private final long seed;
    private int offset;

    public NvPhiloxGenerator(long seed) {
        this.seed = seed;
    }

    @Override
    public long seed() {
        return seed;
    }

    @Override
    public float[] randn(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0");
        }
        int key0 = (int) seed;
        int key1 = (int) (seed >>> 32);
        int k = offset++;
        float[] out = new float[n];
        int[] c = new int[4];
        for (int i = 0; i < n; i++) {
            c[0] = k;
            c[1] = 0;
            c[2] = i;
            c[3] = 0;
            philox4x32(c, key0, key1);
            out[i] = boxMuller(c[0], c[1]);
        }
        return out;
    }

    /** Ten rounds of Philox 4x32 on {@code counter}, in place. */
    static void philox4x32(int[] counter, int key0, int key1) {
        int k0 = key0;
        int k1 = key1;
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                k0 += PHILOX_W0;
                k1 += PHILOX_W1;
            }
            long v1 = (counter[0] & 0xffffffffL) * (PHILOX_M0 & 0xffffffffL);
            long v2 = (counter[2] & 0xffffffffL) * (PHILOX_M1 & 0xffffffffL);
            int c1 = counter[1];
            int c3 = counter[3];
            counter[0] = (int) (v2 >>> 32) ^ c1 ^ k0;
            counter[1] = (int) v2;
            counter[2] = (int) (v1 >>> 32) ^ c3 ^ k1;
            counter[3] = (int) v1;
        }
    }

    private static float boxMuller(int x, int y) {
        double u = (x & 0xffffffffL) * TWO_POW32_INV + TWO_POW32_INV / 2;
        double v = (y & 0xffffffffL) * TWO_POW32_INV_2PI + TWO_POW32_INV_2PI / 2;
        double s = Math.sqrt(-2.0 * Math.log(u));
        return (float) (s * Math.sin(v));
    }

    @Override
    public String toString() {
        return "NvPhiloxGenerator[seed=" + Long.toUnsignedString(seed) + "]";
    }
}
