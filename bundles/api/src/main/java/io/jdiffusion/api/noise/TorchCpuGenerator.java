package io.jdiffusion.api.noise;

import io.jdiffusion.api.NoiseSource;

/**
 * {@code torch.manual_seed(seed)} followed by {@code torch.randn(n)} calls (float32) on PyTorch's
 * CPU generator, draw for draw, so seeds give the same images as diffusers and AUTOMATIC1111's
 * default ("CPU") noise. Successive calls continue the same generator state.
 *
 * <p>As in PyTorch (MT19937RNGEngine.h, CPUGeneratorImpl.cpp, DistributionsHelper.h,
 * TransformationHelper.h, cpu/DistributionTemplates.h):
 * <ul>
 *   <li>the engine is MT19937 seeded from the low 32 bits of the (unsigned 64-bit) seed;</li>
 *   <li>{@code n >= 16}: {@code normal_fill}: n float uniforms {@code (random() & 0xffffff) / 2^24},
 *       then Box-Muller in blocks of 16 (element j of a block pairs with j + 8:
 *       {@code r = sqrt(-2 log(1 - u_j))}, {@code theta = 2 pi u_{j+8}}, {@code r cos theta} at j,
 *       {@code r sin theta} at j + 8); when {@code n} is not a multiple of 16 the last 16 values are
 *       drawn afresh and transformed again;</li>
 *   <li>{@code n < 16}: the scalar double path ({@code at::normal_distribution<double>}): two 53-bit
 *       uniforms from {@code random64()} give {@code r cos theta}, and {@code r sin theta} is cached in
 *       the generator for the next scalar draw (an {@code n >= 16} draw in between leaves it there).</li>
 * </ul>
 * The block transform is that of PyTorch's x86 builds on AVX2 machines ({@code normal_fill_16_AVX2},
 * reproduced bit for bit by {@link AvxMathFun}); {@link Kernel#SCALAR} gives the portable
 * {@code normal_fill_16} that builds without AVX2 (e.g. ARM) run, which differs by about one ulp.
 * Not thread-safe: one generator per image, as in diffusers.
 */
public final class TorchCpuGenerator implements NoiseSource {
    /** Which of PyTorch's {@code normal_fill_16} kernels transforms blocks of 16. */
    public enum Kernel {
        /** {@code normal_fill_16_AVX2}: x86 builds on CPUs with AVX2 (the usual case). */
        AVX2,
        /** {@code normal_fill_16}: builds without AVX2 (ARM, ...), with libm's logf/cosf/sinf. */
        SCALAR
    }

    private static final float TWO_PI = (float) (2.0 * Math.PI); // _mm256_set1_ps(2.0f * c10::pi<double>)

    private final long seed;
    private final Kernel kernel;
    private final Mt19937 engine;
    private final float[] sincos = new float[2];
    private boolean hasNextDoubleNormal;
    private double nextDoubleNormal;

    /** {@code torch.manual_seed(seed)}; the seed is read as unsigned 64-bit. */
    public TorchCpuGenerator(long seed) {
        this(seed, Kernel.AVX2);
    }

    /** {@code torch.manual_seed(seed)} for a PyTorch build that runs {@code kernel}. */
    public TorchCpuGenerator(long seed, Kernel kernel) {
        this.seed = seed;
        this.kernel = java.util.Objects.requireNonNull(kernel, "kernel");
        this.engine = new Mt19937(seed);
    }

    public Kernel kernel() {
        return kernel;
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
        float[] out = new float[n];
        if (n >= 16) {
            normalFill(out);
        } else {
            for (int i = 0; i < n; i++) {
                out[i] = (float) nextDoubleNormal();
            }
        }
        return out;
    }

    /** {@code random64()}: the first 32-bit draw is the high half. */
    long random64() {
        long hi = engine.nextInt() & 0xffffffffL;
        long lo = engine.nextInt() & 0xffffffffL;
        return (hi << 32) | lo;
    }

    /** {@code uniform_real_distribution<float>(0, 1)}: 24 random bits. */
    private float uniformFloat() {
        return (engine.nextInt() & 0xffffff) * 0x1p-24f;
    }

    /** {@code uniform_real_distribution<double>(0, 1)}: 53 random bits. */
    private double uniformDouble() {
        return (random64() & ((1L << 53) - 1)) * 0x1p-53;
    }

    private void normalFill(float[] data) {
        int size = data.length;
        for (int i = 0; i < size; i++) {
            data[i] = uniformFloat();
        }
        for (int i = 0; i < size - 15; i += 16) {
            normalFill16(data, i);
        }
        if (size % 16 != 0) {
            // Recompute the last 16 values.
            int start = size - 16;
            for (int i = 0; i < 16; i++) {
                data[start + i] = uniformFloat();
            }
            normalFill16(data, start);
        }
    }

    /**
     * One block of 16 with mean 0 and std 1 ({@code normal_fill_16_AVX2} or {@code normal_fill_16}):
     * {@code u1 = 1 - data[j]}, {@code radius = sqrt(-2 log(u1))}, {@code theta = 2 pi data[j + 8]},
     * then {@code radius * cos theta} at j and {@code radius * sin theta} at j + 8, in float32.
     */
    private void normalFill16(float[] data, int off) {
        for (int j = 0; j < 8; j++) {
            float u1 = 1f - data[off + j]; // [0, 1) -> (0, 1] for log
            float u2 = data[off + j + 8];
            if (kernel == Kernel.AVX2) {
                float radius = (float) Math.sqrt(-2f * AvxMathFun.log(u1));
                AvxMathFun.sincos(TWO_PI * u2, sincos);
                data[off + j] = radius * sincos[1];
                data[off + j + 8] = radius * sincos[0];
            } else {
                float radius = (float) Math.sqrt(-2 * (float) Math.log(u1));
                float theta = (float) (2.0 * Math.PI * u2); // 2.0f * c10::pi<double> * u2, in double
                data[off + j] = radius * (float) Math.cos(theta);
                data[off + j + 8] = radius * (float) Math.sin(theta);
            }
        }
    }

    /** {@code at::normal_distribution<double>(0, 1)} with the generator's cached second value. */
    private double nextDoubleNormal() {
        if (hasNextDoubleNormal) {
            hasNextDoubleNormal = false;
            return nextDoubleNormal;
        }
        double u1 = uniformDouble();
        double u2 = uniformDouble();
        double r = Math.sqrt(-2.0 * Math.log1p(-u2));
        double theta = 2.0 * Math.PI * u1;
        nextDoubleNormal = r * Math.sin(theta);
        hasNextDoubleNormal = true;
        return r * Math.cos(theta);
    }

    @Override
    public String toString() {
        return "TorchCpuGenerator[seed=" + Long.toUnsignedString(seed) + ", " + kernel + "]";
    }
}
