package io.jdiffusion.toyworld;

import ai.onnx.proto.OnnxMl.ModelProto;

import java.util.List;

/**
 * The UNet: the exact Bayes-optimal denoiser of the toy world, in closed form. See docs/toy-world.md.
 * <p>
 * Scene k = (shape s, fg f, bg b) in scaled latent space: x0_k[c,p] = Lb[c] + m_s(p) D_k[c], D_k = Lf - Lb.
 * With T[c] = sum_p x[c,p], Q[c,s] = sum_p x[c,p] m_s(p), A1_s = sum m_s, A2_s = sum m_s^2, N = h w:
 * <pre>
 *   &lt;x, x0_k&gt;  = Lb.T + sum_c D_k[c] Q[c,s_k]
 *   |x0_k|^2   = N |Lb|^2 + 2 A1_s (Lb.D_k) + A2_s |D_k|^2
 *   loglik_k   = (sqrt(abar) &lt;x,x0_k&gt; - abar/2 |x0_k|^2) / (1 - abar)
 *   prior_k    = ALPHA (sum_t H[t, shape s] + H[t, fg f] + H[t, bg b])
 *   w = softmax(loglik + prior);  E[x0] = sum_k w_k Lb_k + sum_s (sum_k w_k D_k [s_k = s]) m_s
 *   eps = (x - sqrt(abar) E[x0]) / sqrt(1 - abar)
 * </pre>
 */
public final class UnetModel {
    /**
     * Prior strength per mentioned attribute (nats). It must beat the chance "evidence" that pure N(0, I) start noise
     * carries at t ~ 950 (the first step of a sampler): about sqrt(abar_T |x0_k - x0_j|^2) ~ 6-8 nats at 512-768 px,
     * ~13 at 1024 px. At 10 a third of the 20-step DDIM runs drew the wrong background; at 50 none of 42 did.
     */
    public static final float ALPHA = 50f;

    private UnetModel() {
    }

    static ModelProto build(ToyWorldOptions o) {
        int w = o.crossAttentionDim();
        List<World.Scene> scenes = World.scenes();
        int k = scenes.size();
        int nShapes = World.SHAPES.size();
        double[][] lat = new double[World.COLOURS.size()][];
        for (int c = 0; c < lat.length; c++) lat[c] = ToyVae.scaledLatent(World.COLOURS.get(c));

        // per-scene constants
        float[] lbMat = new float[4 * k];          // [4,K]
        float[] lbT = new float[k * 4];            // [K,4]
        float[] gMat = new float[4 * nShapes * k]; // [28,K]
        float[] gT = new float[k * 4 * nShapes];   // [K,28]
        float[] c0 = new float[k];                 // [K]   |Lb|^2
        float[] s1 = new float[nShapes * k];       // [7,K] 2 Lb.D at row s_k
        float[] s2 = new float[nShapes * k];       // [7,K] |D|^2 at row s_k
        float[] sel = new float[TextFeatures.FEATURE_DIMS * k]; // [32,K]
        for (int j = 0; j < k; j++) {
            World.Scene sc = scenes.get(j);
            double[] lb = lat[sc.bg()], lf = lat[sc.fg()];
            double lbb = 0, lbd = 0, dd = 0;
            for (int c = 0; c < 4; c++) {
                double d = lf[c] - lb[c];
                lbMat[c * k + j] = (float) lb[c];
                lbT[j * 4 + c] = (float) lb[c];
                int row = c * nShapes + sc.shape();
                gMat[row * k + j] = (float) d;
                gT[j * 4 * nShapes + row] = (float) d;
                lbb += lb[c] * lb[c];
                lbd += lb[c] * d;
                dd += d * d;
            }
            c0[j] = (float) lbb;
            s1[sc.shape() * k + j] = (float) (2 * lbd);
            s2[sc.shape() * k + j] = (float) dd;
            sel[TextFeatures.shapeDim(sc.shape()) * k + j] = ALPHA;
            sel[TextFeatures.fgDim(sc.fg()) * k + j] = ALPHA;
            sel[TextFeatures.bgDim(sc.bg()) * k + j] = ALPHA;
        }

        Graph g = new Graph("toy_unet");
        int extraChannels = o.unetVariant().extraChannels();
        String sampleIn = g.input("sample", Graph.FLOAT, "batch", 4 + extraChannels, "height", "width");
        // a depth / inpainting UNet takes the mode's channels after the latents; the denoiser works on the latents
        String x = extraChannels == 0 ? sampleIn : g.slice(sampleIn, 0, 4, 1);
        String extra = extraChannels == 0 ? null : g.slice(sampleIn, 4, 4 + extraChannels, 1);
        boolean floatT = o.timestepType() == ToyWorldOptions.TimestepType.FLOAT;
        String t = g.input("timestep", floatT ? Graph.FLOAT : Graph.INT64, "batch");
        String ehs = g.input("encoder_hidden_states", Graph.FLOAT, "batch", "sequence", w);

        // ---- sigma(t): table lookup, linear in sigma between floor and ceil, t clipped to [0, 999]
        String tf = floatT ? t : g.castFloat(t);
        String tc = g.op("Clip", new String[] {g.reshape(tf, -1), g.scalar(0f), g.scalar(NoiseSchedule.TRAIN_TIMESTEPS - 1)});
        String lo = g.op1("Floor", tc);
        String hi = g.op1("Ceil", tc);
        String frac = g.sub(tc, lo);
        String table = g.init("sigmas", NoiseSchedule.sigmas(), NoiseSchedule.TRAIN_TIMESTEPS);
        String sLo = g.op2("Gather", table, g.castLong(lo), "axis", 0);
        String sHi = g.op2("Gather", table, g.castLong(hi), "axis", 0);
        String sigma = g.reshape(g.add(sLo, g.mul(frac, g.sub(sHi, sLo))), -1, 1);       // [T,1]
        String sigma2 = g.mul(sigma, sigma);
        String abar = g.div(g.scalar(1f), g.add(g.scalar(1f), sigma2));                    // [T,1]
        String sqrtAbar = g.sqrt(abar);
        String oneMinus = g.mul(sigma2, abar);                                              // 1 - abar, no cancellation
        String sqrtOneMinus = g.mul(sigma, sqrtAbar);                                       // sqrt(1 - abar)

        // ---- soft shape masks from the dynamic h, w
        String shape = g.op1("Shape", x);                                                   // of the latents: [B,4,h,w]
        String h = g.op2("Gather", shape, g.longScalar(2), "axis", 0);
        String wd = g.op2("Gather", shape, g.longScalar(3), "axis", 0);
        String hf = g.castFloat(h), wf = g.castFloat(wd);
        String half = g.mul(g.min(hf, wf), g.scalar(0.5f));                                 // min(h,w)/2 = 1/delta
        String xs = g.div(g.sub(g.add(g.castFloat(g.op("Range", new String[] {g.longScalar(0), wd, g.longScalar(1)})),
                g.scalar(0.5f)), g.mul(wf, g.scalar(0.5f))), half);
        String ys = g.div(g.sub(g.add(g.castFloat(g.op("Range", new String[] {g.longScalar(0), h, g.longScalar(1)})),
                g.scalar(0.5f)), g.mul(hf, g.scalar(0.5f))), half);
        String X = g.unsqueeze(xs, 0);                                                      // [1,w]
        String Y = g.unsqueeze(ys, 1);                                                      // [h,1]
        String ax = g.abs(X), ay = g.abs(Y);

        String[] sdf = new String[nShapes];
        sdf[World.SHAPES.indexOf("circle")] = g.sub(g.sqrt(g.add(g.mul(X, X), g.mul(Y, Y))), g.scalar(0.6f));
        sdf[World.SHAPES.indexOf("square")] = g.sub(g.max(ax, ay), g.scalar(0.5f));
        sdf[World.SHAPES.indexOf("diamond")] = g.mul(g.sub(g.add(ax, ay), g.scalar(0.7f)), g.scalar((float) (1 / Math.sqrt(2))));
        sdf[World.SHAPES.indexOf("triangle")] = g.sub(g.max(
                dot(g, X, Y, 90), dot(g, X, Y, 210), dot(g, X, Y, 330)), g.scalar(0.35f));
        double d = 0.75 * Math.cos(Math.toRadians(72));
        double[] starAngles = {-18, 54, 126, 198, 270};
        String[] v = new String[5];
        for (int i = 0; i < 5; i++) v[i] = g.unsqueeze(g.sub(dot(g, X, Y, starAngles[i]), g.scalar((float) d)), 0);
        String[] top2 = g.opMulti("TopK", new String[] {g.concat(0, v), g.longs(2)}, 2, "axis", 0, "largest", 1, "sorted", 1);
        sdf[World.SHAPES.indexOf("star")] = g.squeeze(g.slice(top2[0], 1, 2, 0), 0);       // second largest
        sdf[World.SHAPES.indexOf("cross")] = g.min(
                g.max(g.sub(ax, g.scalar(0.2f)), g.sub(ay, g.scalar(0.65f))),
                g.max(g.sub(ax, g.scalar(0.65f)), g.sub(ay, g.scalar(0.2f))));
        sdf[World.SHAPES.indexOf("hexagon")] = g.sub(g.max(
                g.abs(dot(g, X, Y, 0)), g.abs(dot(g, X, Y, 60)), g.abs(dot(g, X, Y, 120))), g.scalar(0.6f));
        String[] masks = new String[nShapes];
        for (int s = 0; s < nShapes; s++) {
            String m = g.op("Clip", new String[] {g.sub(g.scalar(0.5f), g.mul(sdf[s], half)), g.scalar(0f), g.scalar(1f)});
            masks[s] = g.unsqueeze(m, 0);                                                   // [1,h,w]
        }
        String mk = g.reshape(g.concat(0, masks), nShapes, -1);                             // [7,N]

        // ---- sufficient statistics of x and the masks
        String xr = g.reshape(x, 0, 4, -1);                                                 // [B,4,N]
        String tot = g.reduceSum(xr, false, 2);                                             // [B,4]
        String q = g.reshape(g.matmul(xr, g.op1("Transpose", mk, "perm", new long[] {1, 0})), 0, 4L * nShapes); // [B,28]
        String ip = g.add(g.matmul(tot, g.init("scene.lb", lbMat, 4, k)),
                g.matmul(q, g.init("scene.g", gMat, 4L * nShapes, k)));                     // [B,K]
        String a1 = g.unsqueeze(g.reduceSum(mk, false, 1), 0);                              // [1,7]
        String a2 = g.unsqueeze(g.reduceSum(g.mul(mk, mk), false, 1), 0);                   // [1,7]
        String n = g.castFloat(g.mul(h, wd));
        String norm = g.add(g.mul(n, g.init("scene.c0", c0, k)),
                g.add(g.matmul(a1, g.init("scene.s1", s1, nShapes, k)), g.matmul(a2, g.init("scene.s2", s2, nShapes, k)))); // [1,K]
        String loglik = g.div(g.sub(g.mul(sqrtAbar, ip), g.mul(g.mul(g.scalar(0.5f), abar), norm)), oneMinus); // [B,K]

        // ---- prior from the text states' feature dims, summed over tokens
        String selMatrix = g.init("scene.prior", sel, TextFeatures.FEATURE_DIMS, k);
        String prior = o.architecture() == ToyWorldOptions.Architecture.SDXL ? XlUnet.prior(g, o, ehs, selMatrix)
                : g.matmul(g.reduceSum(g.slice(ehs, 0, TextFeatures.FEATURE_DIMS, 2), false, 1), selMatrix); // [B,K]
        UnetVariants.Parts parts = new UnetVariants.Parts(g, o, scenes, lat, x, extra, shape, mk, sqrtAbar, oneMinus);
        String logits = UnetVariants.logits(parts, g.add(loglik, prior));
        String weights = g.op1("Softmax", logits, "axis", -1);                             // [B,K]

        // ---- E[x0 | x_t, text]
        String base = g.unsqueeze(g.matmul(weights, g.init("scene.lbT", lbT, k, 4)), 2);    // [B,4,1]
        String coef = g.reshape(g.matmul(weights, g.init("scene.gT", gT, k, 4L * nShapes)), 0, 4, nShapes); // [B,4,7]
        String ex0 = UnetVariants.expectedX0(parts, weights,
                g.reshapeTo(g.add(g.matmul(coef, mk), base), shape));                      // [B,4,h,w]
        if (o.architecture() == ToyWorldOptions.Architecture.SDXL) ex0 = XlUnet.checkTimeIds(g, shape, ex0);

        String sa4 = g.reshape(sqrtAbar, -1, 1, 1, 1);
        String s1a4 = g.reshape(sqrtOneMinus, -1, 1, 1, 1);
        if (o.predictionType().equals(ToyWorldOptions.V_PREDICTION)) {
            String eps = g.div(g.sub(x, g.mul(sa4, ex0)), s1a4);
            g.opNamed("Sub", "out_sample", new String[] {g.mul(sa4, eps), g.mul(s1a4, ex0)});
        } else {
            g.opNamed("Div", "out_sample", new String[] {g.sub(x, g.mul(sa4, ex0)), s1a4});
        }
        g.output("out_sample", Graph.FLOAT, "batch", 4, "height", "width"); // latents only, whatever came in
        return g.model("toy-world UNet " + ToyWorld.VERSION + ": exact Bayes denoiser over "
                + k + " scenes, " + o.predictionType() + " prediction");
    }

    /** n.p for the unit normal at the given angle (degrees, image coordinates: y grows downwards). */
    private static String dot(Graph g, String x, String y, double degrees) {
        double a = Math.toRadians(degrees);
        return g.add(g.mul(x, g.scalar((float) Math.cos(a))), g.mul(y, g.scalar((float) Math.sin(a))));
    }
}
