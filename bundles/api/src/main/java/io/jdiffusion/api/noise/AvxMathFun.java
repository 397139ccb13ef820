package io.jdiffusion.api.noise;

/**
 * The float32 {@code log256_ps} and {@code sincos256_ps} of PyTorch's
 * aten/src/ATen/native/cpu/avx_mathfun.h (Cephes polynomials after Julien Pommier's sse_mathfun,
 * zlib licence), one lane at a time with the same operations in the same order. PyTorch compiles
 * its AVX2 kernels with FMA enabled and GCC contracts each multiply whose only use is an add into
 * one fused multiply-add; {@link Math#fma} reproduces those contractions, which makes the results
 * bit for bit those of PyTorch's {@code normal_fill_16_AVX2} (checked against every value of
 * torch_randn_reference.json).
 */
final class AvxMathFun {
    private static final float SQRTHF = (float) 0.707106781186547524;
    private static final float LOG_P0 = (float) 7.0376836292E-2;
    private static final float LOG_P1 = (float) -1.1514610310E-1;
    private static final float LOG_P2 = (float) 1.1676998740E-1;
    private static final float LOG_P3 = (float) -1.2420140846E-1;
    private static final float LOG_P4 = (float) 1.4249322787E-1;
    private static final float LOG_P5 = (float) -1.6668057665E-1;
    private static final float LOG_P6 = (float) 2.0000714765E-1;
    private static final float LOG_P7 = (float) -2.4999993993E-1;
    private static final float LOG_P8 = (float) 3.3333331174E-1;
    private static final float LOG_Q1 = (float) -2.12194440e-4;
    private static final float LOG_Q2 = (float) 0.693359375;

    private static final float MINUS_DP1 = (float) -0.78515625;
    private static final float MINUS_DP2 = (float) -2.4187564849853515625e-4;
    private static final float MINUS_DP3 = (float) -3.77489497744594108e-8;
    private static final float SINCOF_P0 = (float) -1.9515295891E-4;
    private static final float SINCOF_P1 = (float) 8.3321608736E-3;
    private static final float SINCOF_P2 = (float) -1.6666654611E-1;
    private static final float COSCOF_P0 = (float) 2.443315711809948E-005;
    private static final float COSCOF_P1 = (float) -1.388731625493765E-003;
    private static final float COSCOF_P2 = (float) 4.166664568298827E-002;
    private static final float FOPI = (float) 1.27323954473516; // 4 / pi

    private AvxMathFun() {
    }

    /** {@code log256_ps} for one lane: NaN for x <= 0. */
    static float log(float x) {
        boolean invalid = x <= 0f || Float.isNaN(x);
        x = Math.max(x, Float.MIN_NORMAL); // cut off denormalized stuff
        int bits = Float.floatToRawIntBits(x);
        int imm0 = bits >>> 23;
        // keep only the fractional part
        x = Float.intBitsToFloat((bits & ~0x7f800000) | Float.floatToRawIntBits(0.5f));
        imm0 = imm0 - 0x7f;
        float e = (float) imm0;
        e = e + 1f;
        boolean mask = x < SQRTHF;
        float tmp = mask ? x : 0f;
        x = x - 1f;
        e = e - (mask ? 1f : 0f);
        x = x + tmp;

        float z = x * x;
        float y = LOG_P0;
        y = Math.fma(y, x, LOG_P1);
        y = Math.fma(y, x, LOG_P2);
        y = Math.fma(y, x, LOG_P3);
        y = Math.fma(y, x, LOG_P4);
        y = Math.fma(y, x, LOG_P5);
        y = Math.fma(y, x, LOG_P6);
        y = Math.fma(y, x, LOG_P7);
        y = Math.fma(y, x, LOG_P8);
        y = y * x;
        y = Math.fma(y, z, e * LOG_Q1); // y * z + e * q1
        y = Math.fma(-z, 0.5f, y); // y - z * 0.5
        x = x + y;
        x = Math.fma(e, LOG_Q2, x); // x + e * q2
        return invalid ? Float.NaN : x;
    }

    /** {@code sincos256_ps} for one lane: {@code out[0]} = sin x, {@code out[1]} = cos x. */
    static void sincos(float x, float[] out) {
        int signBitSin = Float.floatToRawIntBits(x) & 0x80000000;
        x = Math.abs(x);
        float y = x * FOPI;
        int imm2 = (int) y; // cvttps: truncation
        imm2 = (imm2 + 1) & ~1;
        y = (float) imm2;
        int imm4 = imm2;
        int swapSignBitSin = (imm2 & 4) << 29;
        boolean polyMask = (imm2 & 2) == 0;

        // extended precision modular arithmetic: x = ((x - y * DP1) - y * DP2) - y * DP3
        x = Math.fma(y, MINUS_DP1, x);
        x = Math.fma(y, MINUS_DP2, x);
        x = Math.fma(y, MINUS_DP3, x);

        imm4 = imm4 - 2;
        imm4 = ~imm4 & 4;
        int signBitCos = imm4 << 29;
        signBitSin ^= swapSignBitSin;

        // first polynomial (0 <= x <= pi/4)
        float z = x * x;
        y = COSCOF_P0;
        y = Math.fma(y, z, COSCOF_P1);
        y = Math.fma(y, z, COSCOF_P2);
        y = y * z;
        y = Math.fma(y, z, -(z * 0.5f)); // y * z - z * 0.5
        y = y + 1f;

        // second polynomial (pi/4 <= x <= 0)
        float y2 = SINCOF_P0;
        y2 = Math.fma(y2, z, SINCOF_P1);
        y2 = Math.fma(y2, z, SINCOF_P2);
        y2 = y2 * z;
        y2 = Math.fma(y2, x, x);

        // select the right result from the two polynomials
        float ysin2 = polyMask ? y2 : 0f;
        float ysin1 = polyMask ? 0f : y;
        y2 = y2 - ysin2;
        y = y - ysin1;
        float sin = ysin1 + ysin2;
        float cos = y + y2;
        out[0] = Float.intBitsToFloat(Float.floatToRawIntBits(sin) ^ signBitSin);
        out[1] = Float.intBitsToFloat(Float.floatToRawIntBits(cos) ^ signBitCos);
    }
}
