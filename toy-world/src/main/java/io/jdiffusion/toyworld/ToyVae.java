package io.jdiffusion.toyworld;

/**
 * The toy VAE's linear maps. In SCALED latent space (what a sampler works in) a flat colour with RGB in [-1, 1]
 * sits at {@code M rgb + c}; the encoder writes the UNSCALED latent {@code (M rgb + c) / scaling_factor} after an
 * 8x8 average pool, the decoder applies the pseudo-inverse and a bilinear x8 upsampling.
 */
public final class ToyVae {
    private ToyVae() {
    }

    public static final double SCALING_FACTOR = 0.18215;
    public static final int FACTOR = 8;

    /**
     * M: scaled latent per unit of RGB in [-1, 1] (singular values 1.36 / 0.84 / 0.60). M and c are chosen so that
     * the eight world colours' scaled latents all have the SAME norm (sqrt(1.8) = 1.3416): then |x0_k|^2 is (almost)
     * the same for every scene, and a sampler that starts from N(0, I) (which lacks the sqrt(abar_T) x0 signal) does
     * not push the Bayes posterior towards low-norm colours. Derivation: the 8 colours lie on a common ellipsoid
     * r'Pr + 2q'r = k (the best-conditioned one of the pencil through them); M = H[:, :3] P^(1/2) rho,
     * c = H [P^(-1/2) q rho; 0.6] with H the 4x4 Hadamard rotation, rho 1.2.
     */
    static final double[][] M = {
        {0.404068870982659, 0.169496736842311, 0.471948417460805},
        {0.621554058934695, -0.655381330348440, 0.740347823014898},
        {0.273072758043440, 0.437896142396404, -0.609351710075679},
        {0.490557945995476, -0.386981924794347, -0.340952304521586},
    };
    /** c: scaled latent of mid grey (RGB 0 in [-1, 1]). */
    static final double[] C = {0.205802084041978, -0.213154174754194, -0.410826671566627, 0.370217069637202};

    /** The encoder's 1x1 map on unscaled latents: weight [4][3] = M / scaling_factor. */
    static float[] encoderWeight() {
        return encoderWeight(SCALING_FACTOR);
    }

    static float[] encoderWeight(double scalingFactor) {
        float[] w = new float[12];
        for (int o = 0; o < 4; o++)
            for (int i = 0; i < 3; i++) w[o * 3 + i] = (float) (M[o][i] / scalingFactor);
        return w;
    }

    static float[] encoderBias() {
        return encoderBias(SCALING_FACTOR);
    }

    static float[] encoderBias(double scalingFactor) {
        float[] b = new float[4];
        for (int o = 0; o < 4; o++) b[o] = (float) (C[o] / scalingFactor);
        return b;
    }

    /** pinv(M) [3][4] (M^T M)^-1 M^T, in double. */
    static double[][] pinvM() {
        double[][] mtm = new double[3][3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 4; k++) mtm[i][j] += M[k][i] * M[k][j];
        double[][] inv = invert3(mtm);
        double[][] p = new double[3][4];
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 4; k++)
                for (int j = 0; j < 3; j++) p[i][k] += inv[i][j] * M[k][j];
        return p;
    }

    /** Decoder 1x1 map on unscaled latents z: rgb = pinv(M) (sf z - c); weight [3][4] = sf pinv(M). */
    static float[] decoderWeight() {
        return decoderWeight(SCALING_FACTOR);
    }

    static float[] decoderWeight(double scalingFactor) {
        double[][] p = pinvM();
        float[] w = new float[12];
        for (int o = 0; o < 3; o++)
            for (int i = 0; i < 4; i++) w[o * 4 + i] = (float) (p[o][i] * scalingFactor);
        return w;
    }

    static float[] decoderBias() {
        double[][] p = pinvM();
        float[] b = new float[3];
        for (int o = 0; o < 3; o++) {
            double s = 0;
            for (int i = 0; i < 4; i++) s += p[o][i] * C[i];
            b[o] = (float) -s;
        }
        return b;
    }

    /** The SCALED latent 4-vector of a flat RGB colour (0-255). */
    public static double[] scaledLatent(int[] rgb) {
        double[] out = new double[4];
        for (int o = 0; o < 4; o++) {
            double s = C[o];
            for (int i = 0; i < 3; i++) s += M[o][i] * (rgb[i] / 127.5 - 1.0);
            out[o] = s;
        }
        return out;
    }

    /** The SCALED latent 4-vector of a world colour. */
    public static double[] scaledLatent(String colour) {
        return scaledLatent(World.rgb(colour));
    }

    private static double[][] invert3(double[][] a) {
        double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
                - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
                + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
        double[][] r = new double[3][3];
        r[0][0] = (a[1][1] * a[2][2] - a[1][2] * a[2][1]) / det;
        r[0][1] = (a[0][2] * a[2][1] - a[0][1] * a[2][2]) / det;
        r[0][2] = (a[0][1] * a[1][2] - a[0][2] * a[1][1]) / det;
        r[1][0] = (a[1][2] * a[2][0] - a[1][0] * a[2][2]) / det;
        r[1][1] = (a[0][0] * a[2][2] - a[0][2] * a[2][0]) / det;
        r[1][2] = (a[0][2] * a[1][0] - a[0][0] * a[1][2]) / det;
        r[2][0] = (a[1][0] * a[2][1] - a[1][1] * a[2][0]) / det;
        r[2][1] = (a[0][1] * a[2][0] - a[0][0] * a[2][1]) / det;
        r[2][2] = (a[0][0] * a[1][1] - a[0][1] * a[1][0]) / det;
        return r;
    }
}
