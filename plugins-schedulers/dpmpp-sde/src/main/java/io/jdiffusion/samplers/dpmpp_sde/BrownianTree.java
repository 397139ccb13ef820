package io.jdiffusion.samplers.dpmpp_sde;

import io.jdiffusion.api.noise.TorchCpuGenerator;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A port of torchsde's {@code BrownianInterval} as k-diffusion's and diffusers'
 * {@code BrownianTreeNoiseSampler} build it ({@code tol=1e-6, pool_size=24, halfway_tree=True},
 * no Levy area), value for value: the same dyadic tree over {@code [t0, t1]} (every split at the
 * rounded midpoint, every time rounded to 6 decimals as Python's {@code round(x, 6)}), the same
 * seeds per node ({@code SeedSequence(entropy, spawn_key=(key, depth), pool_size=24)}), the same
 * {@code torch.randn} draws from a fresh CPU generator per node and the same float32 Brownian
 * bridge, so a query {@code W(tb) - W(ta)} is torchsde's for the same entropy.
 *
 * <p>torchsde keeps an LRU cache of 45 increments; the values do not depend on it, so this keeps
 * a larger one for speed only (up to 16M floats, at least 64 increments): a query far from the cached
 * nodes costs one {@code randn(size)} per tree level below the nearest cached ancestor.
 */
final class BrownianTree {
    private static final int POOL_SIZE = 24;
    private static final int CACHE_FLOATS = 16 << 20;

    private final int size;
    private final long entropy;
    private final Node root;
    private final float[] rootW;
    private Node lastInterval;
    private final int cacheSize;
    private final Map<Node, float[]> cache;

    /**
     * {@code BrownianInterval(t0, t1, size, entropy=entropy, tol=1e-6, pool_size=24, halfway_tree=True)}.
     *
     * @param entropy the seed, read as unsigned 64-bit
     */
    BrownianTree(double t0, double t1, int size, long entropy) {
        if (t0 > t1) {
            throw new IllegalArgumentException("t0 " + t0 + " must not exceed t1 " + t1);
        }
        this.size = size;
        this.entropy = entropy;
        this.cacheSize = Math.max(64, CACHE_FLOATS / Math.max(1, size));
        this.cache = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Node, float[]> eldest) {
                return size() > cacheSize;
            }
        };
        this.root = new Node(round(t0), round(t1), null, false);
        long[] seeds = new SeedSequence(entropy, new long[0], POOL_SIZE).generateState(3);
        float[] w = new TorchCpuGenerator(seeds[0]).randn(size);
        float scale = (float) Math.sqrt(t1 - t0); // unrounded t0, t1
        for (int i = 0; i < size; i++) {
            w[i] = w[i] * scale;
        }
        this.rootW = w;
        this.lastInterval = root;
    }

    /** Python's {@code round(x, 6)}: correctly rounded to 6 decimals, half to even, back to the nearest double. */
    static double round(double x) {
        if (Double.isNaN(x) || Double.isInfinite(x)) {
            return x;
        }
        return Double.parseDouble(new BigDecimal(x).setScale(6, RoundingMode.HALF_EVEN).toPlainString());
    }

    /** {@code BrownianInterval.__call__(ta, tb)}: the increment {@code W(tb) - W(ta)}, float32. */
    float[] increment(double ta, double tb) {
        ta = Math.min(Math.max(ta, root.start), root.end);
        tb = Math.min(Math.max(tb, root.start), root.end);
        if (ta > tb) {
            throw new IllegalArgumentException("query times ta=" + ta + " and tb=" + tb + " must respect ta <= tb");
        }
        if (ta == tb) {
            return new float[size];
        }
        List<Node> intervals = new ArrayList<>();
        lastInterval.loc(round(ta), round(tb), intervals);
        lastInterval = intervals.get(intervals.size() - 1);
        float[] w = w(intervals.get(0));
        for (int k = 1; k < intervals.size(); k++) {
            float[] wi = w(intervals.get(k));
            float[] sum = new float[size];
            for (int i = 0; i < size; i++) {
                sum[i] = w[i] + wi[i];
            }
            w = sum;
        }
        return w;
    }

    /** {@code _increment_and_space_time_levy_area} without Levy area: the node's increment from its parent's. */
    private float[] w(Node node) {
        if (node == root) {
            return rootW;
        }
        float[] cached = cache.get(node);
        if (cached != null) {
            return cached;
        }
        Node parent = node.parent;
        float[] wp = w(parent);
        double hReciprocal = 1 / (parent.end - parent.start);
        double leftDiff = parent.midway - parent.start;
        double rightDiff = parent.end - parent.midway;
        float fLeft = (float) leftDiff;
        float fRecip = (float) hReciprocal;
        float std = (float) Math.sqrt(leftDiff * rightDiff * hReciprocal);
        float[] noise = new TorchCpuGenerator(parent.wSeed).randn(size);
        // both children come from the same draw: keep the sibling too
        float[] left = new float[size];
        float[] right = new float[size];
        for (int i = 0; i < size; i++) {
            // mean = left_diff * W * h_reciprocal; left_W = mean + sqrt(var) * noise; right_W = W - left_W
            float leftW = fLeft * wp[i] * fRecip + std * noise[i];
            left[i] = leftW;
            right[i] = wp[i] - leftW;
        }
        cache.put(parent.left, left);
        cache.put(parent.right, right);
        return node.isLeft ? left : right;
    }

    /** {@code _Interval}: a node of the dyadic tree. */
    private final class Node {
        final double start;
        final double end;
        final Node parent;
        final boolean isLeft;
        double midway = Double.NaN;
        long spawnKey;
        int depth;
        long wSeed;
        Node left;
        Node right;

        Node(double start, double end, Node parent, boolean isLeft) {
            this.start = round(start);
            this.end = round(end);
            this.parent = parent;
            this.isLeft = isLeft;
        }

        /** {@code _loc_inner}: appends the existing (or newly split) intervals that make up [ta, tb]. */
        void loc(double ta, double tb, List<Node> out) {
            Node node = this;
            while (true) {
                if (ta < node.start || tb > node.end) {
                    node = node.parent;
                    continue;
                }
                if (ta == node.start && tb == node.end) {
                    out.add(node);
                    return;
                }
                if (Double.isNaN(node.midway)) {
                    if (ta == node.start) {
                        node.split(tb);
                        node = node.left;
                        continue;
                    }
                    node.split(ta);
                    node = node.right;
                    continue;
                }
                if (tb <= node.midway) {
                    node = node.left;
                    continue;
                }
                if (ta >= node.midway) {
                    node = node.right;
                    continue;
                }
                node.left.loc(ta, node.midway, out);
                double mid = node.midway;
                node = node.right;
                ta = mid;
            }
        }

        /** {@code _split} of the halfway tree: split at the rounded midpoint, then on towards {@code midway}. */
        void split(double target) {
            Node node = this;
            while (true) {
                node.splitExact(0.5 * (node.end + node.start));
                if (target > node.midway) {
                    node = node.right;
                } else if (target < node.midway) {
                    node = node.left;
                } else {
                    return;
                }
            }
        }

        private void splitExact(double mid) {
            midway = round(mid);
            if (parent == null) {
                spawnKey = 0;
                depth = 0;
            } else {
                spawnKey = 2 * parent.spawnKey + (isLeft ? 0 : 1);
                depth = parent.depth + 1;
            }
            long[] seeds = new SeedSequence(entropy, new long[] {spawnKey, depth}, POOL_SIZE).generateState(4);
            wSeed = seeds[0];
            left = new Node(start, mid, this, true);
            right = new Node(mid, end, this, false);
        }
    }
}
