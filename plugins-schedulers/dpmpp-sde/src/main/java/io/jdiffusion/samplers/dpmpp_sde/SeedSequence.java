package io.jdiffusion.samplers.dpmpp_sde;

/**
 * numpy's {@code np.random.SeedSequence(entropy, spawn_key, pool_size).generate_state(n)}
 * (numpy/random/bit_generator.pyx), all arithmetic mod 2^32: the entropy and spawn key as
 * little-endian 32-bit words (the entropy padded with zeros to the pool size when there is a spawn
 * key), hashed into the pool with {@code hashmix}/{@code mix}, then {@code n} uint32 words drawn
 * from the pool. torchsde seeds every node of its Brownian tree this way.
 */
final class SeedSequence {
    private static final int XSHIFT = 16;
    private static final int INIT_A = 0x43b0d7e5;
    private static final int MULT_A = 0x931e8875;
    private static final int INIT_B = 0x8b51f9dd;
    private static final int MULT_B = 0x58f38ded;
    private static final int MIX_MULT_L = 0xca01f9dd;
    private static final int MIX_MULT_R = 0x4973f715;

    private final int[] pool;
    private int hashConst;

    /**
     * @param entropy  unsigned 64-bit entropy
     * @param spawnKey the spawn key's integers (each non-negative), or an empty array
     */
    SeedSequence(long entropy, long[] spawnKey, int poolSize) {
        int[] run = words(entropy);
        int[] spawn = new int[0];
        for (long k : spawnKey) {
            spawn = concat(spawn, words(k));
        }
        if (spawn.length > 0 && run.length < poolSize) {
            run = java.util.Arrays.copyOf(run, poolSize); // zero padding (numpy >= 1.19)
        }
        int[] entropyArray = concat(run, spawn);
        pool = new int[poolSize];
        mixEntropy(entropyArray);
    }

    /** {@code _int_to_uint32_array}: 0 is [0]; otherwise 32-bit words, least significant first. */
    static int[] words(long unsigned) {
        if (unsigned == 0) {
            return new int[] {0};
        }
        int count = (unsigned >>> 32) != 0 ? 2 : 1;
        int[] w = new int[count];
        w[0] = (int) unsigned;
        if (count == 2) {
            w[1] = (int) (unsigned >>> 32);
        }
        return w;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private int hashmix(int value) {
        value ^= hashConst;
        hashConst *= MULT_A;
        value *= hashConst;
        value ^= value >>> XSHIFT;
        return value;
    }

    private static int mix(int x, int y) {
        int result = MIX_MULT_L * x - MIX_MULT_R * y;
        result ^= result >>> XSHIFT;
        return result;
    }

    private void mixEntropy(int[] entropy) {
        hashConst = INIT_A;
        int n = pool.length;
        for (int i = 0; i < n; i++) {
            pool[i] = hashmix(i < entropy.length ? entropy[i] : 0);
        }
        for (int src = 0; src < n; src++) {
            for (int dst = 0; dst < n; dst++) {
                if (src != dst) {
                    pool[dst] = mix(pool[dst], hashmix(pool[src]));
                }
            }
        }
        for (int src = n; src < entropy.length; src++) {
            for (int dst = 0; dst < n; dst++) {
                pool[dst] = mix(pool[dst], hashmix(entropy[src]));
            }
        }
    }

    /** {@code generate_state(n)} as uint32 values (held in longs). */
    long[] generateState(int n) {
        int hash = INIT_B;
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            int v = pool[i % pool.length];
            v ^= hash;
            hash *= MULT_B;
            v *= hash;
            v ^= v >>> XSHIFT;
            out[i] = v & 0xffffffffL;
        }
        return out;
    }
}
