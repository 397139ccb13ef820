package io.jdiffusion.toyworld;

/**
 * What the mask and masked-image latents tell the toy inpainting (9-channel) denoiser. The extra channels are
 * diffusers' {@code StableDiffusionInpaintPipeline} layout: channel 0 the mask at latent size (1 = repaint),
 * channels 1..4 the scaled latents of {@code image * (mask < 0.5)}.
 * <p>
 * The model is the exact posterior for a composite: the known image outside the mask, scene k inside it.
 * <pre>
 *   u = 1 - m (known latent pixels), y = masked-image latents
 *   loglik_k  = masked part only: the full loglik minus the same sum over u-weighted pixels, because x_t outside
 *               the mask is the known image plus noise and says nothing about k
 *   context_k = BETA (2 &lt;y, x0_k&gt;_u - |x0_k|^2_u) / max(sum u, 1)   (= -BETA mean_u |y - x0_k|^2 + const)
 *   E[x0]     = m E_w[x0_k] + u y
 * </pre>
 * The context term is a tempered likelihood of the known surroundings: a real inpainting model continues what it
 * sees where the prompt is silent. BETA is set so that the largest colour mismatch costs ALPHA / 2 nats, i.e. the
 * context decides what the prompt leaves open and never outvotes a word the prompt says.
 */
final class InpaintEvidence {
    private InpaintEvidence() {
    }

    static String logits(UnetVariants.Parts p, String logits) {
        Graph g = p.g();
        Consts c = Consts.of(p);
        String u = known(p);                                                              // [B,1,N]
        String xr = g.reshape(p.latents(), 0, 4, -1);                                     // [B,4,N]
        String yr = g.reshape(g.slice(p.extra(), 1, 5, 1), 0, 4, -1);                     // [B,4,N]
        String abar = g.mul(p.sqrtAbar(), p.sqrtAbar());                                  // [T,1]
        String normU = weightedNorm(g, c, p.masks(), u);                                  // [B,K]
        String knownLoglik = g.div(g.sub(g.mul(p.sqrtAbar(), weightedInner(g, c, p.masks(), xr, u)),
                g.mul(g.mul(g.scalar(0.5f), abar), normU)), p.oneMinus());                 // [B,K]
        String count = g.max(g.reduceSum(u, false, 1, 2), g.scalar(1f));                 // [B]
        String context = g.div(g.mul(g.scalar((float) beta(p.colours())),
                        g.sub(g.mul(g.scalar(2f), weightedInner(g, c, p.masks(), yr, u)), normU)),
                g.unsqueeze(count, 1));                                                   // [B,K]
        return g.add(g.sub(logits, knownLoglik), context);
    }

    static String expectedX0(UnetVariants.Parts p, String weights, String expectedX0) {
        Graph g = p.g();
        String m = g.slice(p.extra(), 0, 1, 1);                                           // [B,1,h,w]
        String y = g.slice(p.extra(), 1, 5, 1);                                           // [B,4,h,w]
        return g.add(g.mul(m, expectedX0), g.mul(g.sub(g.scalar(1f), m), y));
    }

    /** Nats per unit of mean squared latent distance: the farthest pair of colours costs ALPHA / 2. */
    static double beta(double[][] colours) {
        double max = 0;
        for (double[] a : colours) {
            for (double[] b : colours) {
                double d = 0;
                for (int ch = 0; ch < a.length; ch++) d += (a[ch] - b[ch]) * (a[ch] - b[ch]);
                max = Math.max(max, d);
            }
        }
        return UnetModel.ALPHA / 2 / max;
    }

    /** 1 - mask, flattened: {@code [B,1,N]}. */
    private static String known(UnetVariants.Parts p) {
        Graph g = p.g();
        return g.reshape(g.sub(g.scalar(1f), g.slice(p.extra(), 0, 1, 1)), 0, 1, -1);
    }

    /** sum_p u_p &lt;z_p, x0_k,p&gt; for every scene: {@code [B,K]}. */
    private static String weightedInner(Graph g, Consts c, String mk, String z, String u) {
        String zu = g.mul(z, u);                                                          // [B,4,N]
        String tot = g.reduceSum(zu, false, 2);                                           // [B,4]
        String q = g.reshape(g.matmul(zu, g.op1("Transpose", mk, "perm", new long[] {1, 0})), 0, 4L * c.nShapes); // [B,28]
        return g.add(g.matmul(tot, c.lb), g.matmul(q, c.gm));
    }

    /** sum_p u_p |x0_k,p|^2 for every scene: {@code [B,K]}. */
    private static String weightedNorm(Graph g, Consts c, String mk, String u) {
        String mkT = g.op1("Transpose", mk, "perm", new long[] {1, 0});                  // [N,7]
        String mk2T = g.op1("Transpose", g.mul(mk, mk), "perm", new long[] {1, 0});      // [N,7]
        String n = g.reshape(g.reduceSum(u, false, 1, 2), -1, 1);                         // [B,1]
        String a1 = g.reshape(g.matmul(u, mkT), 0, c.nShapes);                            // [B,7]
        String a2 = g.reshape(g.matmul(u, mk2T), 0, c.nShapes);                           // [B,7]
        return g.add(g.mul(n, c.c0), g.add(g.matmul(a1, c.s1), g.matmul(a2, c.s2)));
    }

    /** The per-scene constants of {@link UnetModel}'s formula, as initializers of this graph. */
    private record Consts(int nShapes, String lb, String gm, String c0, String s1, String s2) {
        static Consts of(UnetVariants.Parts p) {
            int k = p.scenes().size();
            int nShapes = World.SHAPES.size();
            float[] lb = new float[4 * k];
            float[] gm = new float[4 * nShapes * k];
            float[] c0 = new float[k];
            float[] s1 = new float[nShapes * k];
            float[] s2 = new float[nShapes * k];
            for (int j = 0; j < k; j++) {
                World.Scene sc = p.scenes().get(j);
                double[] b = p.colours()[sc.bg()], f = p.colours()[sc.fg()];
                double bb = 0, bd = 0, dd = 0;
                for (int ch = 0; ch < 4; ch++) {
                    double d = f[ch] - b[ch];
                    lb[ch * k + j] = (float) b[ch];
                    gm[(ch * nShapes + sc.shape()) * k + j] = (float) d;
                    bb += b[ch] * b[ch];
                    bd += b[ch] * d;
                    dd += d * d;
                }
                c0[j] = (float) bb;
                s1[sc.shape() * k + j] = (float) (2 * bd);
                s2[sc.shape() * k + j] = (float) dd;
            }
            Graph g = p.g();
            return new Consts(nShapes, g.init("inpaint.lb", lb, 4, k), g.init("inpaint.g", gm, 4L * nShapes, k),
                    g.init("inpaint.c0", c0, k), g.init("inpaint.s1", s1, nShapes, k), g.init("inpaint.s2", s2, nShapes, k));
        }
    }
}
