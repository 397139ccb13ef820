package io.jdiffusion.toyworld;

import java.util.List;

/**
 * What the depth channel tells the toy denoiser: where the foreground is, hence which SHAPE the scene has.
 * <p>
 * The depth channel {@code d} is [B,1,h,w] in [-1, 1], near = +1, as diffusers' depth pipeline feeds it (MiDaS /
 * DPT relative inverse depth normalised per image). The toy world's depth of scene k is its shape's mask:
 * foreground near (+1), background far (-1), i.e. {@code 2 m_s - 1}. A Gaussian likelihood of the observed map,
 * {@code -BETA/2 |d - (2 m_s - 1)|^2}, keeps only its shape-dependent part:
 * <pre>
 *   depth_k = 2 BETA (&lt;d + 1, m_s&gt; - A2_s)   for every scene k of shape s = s_k
 * </pre>
 * It does not depend on t: the depth is a condition, not a noisy observation, so it holds from the first step to
 * the last and the shape follows the depth map even at strength 1, whatever the prompt or the start latents say
 * about the shape. Colours stay with the prompt and the latents. E[x0] needs nothing more: the depth only
 * re-weights the scenes.
 */
final class DepthEvidence {
    /**
     * Precision of the depth likelihood (1 / sigma^2 of a depth pixel). The closest shapes, circle and hexagon,
     * differ by |m_c - m_h|^2 = 16 latent pixels at 32x32 (256 px) and 88 at 64x64 (512 px), so 4 makes the
     * depth worth 2 BETA |m_c - m_h|^2 ~ 130 nats (256 px) to 700 nats (512 px) against the wrong shape: more
     * than a prompt that names another shape (ALPHA = 50 nats).
     */
    static final float BETA = 4f;

    private DepthEvidence() {
    }

    static String logits(UnetVariants.Parts p, String logits) {
        Graph g = p.g();
        List<World.Scene> scenes = p.scenes();
        int k = scenes.size();
        int nShapes = World.SHAPES.size();
        float[] byShape = new float[nShapes * k]; // [7,K]: 2 BETA where scene k has shape s
        for (int j = 0; j < k; j++) byShape[scenes.get(j).shape() * k + j] = 2 * BETA;

        String d1 = g.add(g.reshape(p.extra(), 0, -1), g.scalar(1f));                          // [B,N] d + 1
        String mT = g.op1("Transpose", p.masks(), "perm", new long[] {1, 0});                     // [N,7]
        String a2 = g.unsqueeze(g.reduceSum(g.mul(p.masks(), p.masks()), false, 1), 0);           // [1,7]
        String perShape = g.sub(g.matmul(d1, mT), a2);                                            // [B,7]
        String depth = g.matmul(perShape, g.init("depth.by_shape", byShape, nShapes, k));         // [B,K]
        return g.add(logits, depth);
    }

    static String expectedX0(UnetVariants.Parts p, String weights, String expectedX0) {
        return expectedX0;
    }
}
