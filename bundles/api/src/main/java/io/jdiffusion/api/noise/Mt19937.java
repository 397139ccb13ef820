package io.jdiffusion.api.noise;

/**
 * PyTorch's {@code at::mt19937} (aten/src/ATen/core/MT19937RNGEngine.h): the standard 32-bit
 * Mersenne Twister, seeded with {@code init_genrand} from the low 32 bits of the seed.
 */
final class Mt19937 {
    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UMASK = 0x80000000;
    private static final int LMASK = 0x7fffffff;

    private final int[] state = new int[N];
    private int left;
    private int next;

    Mt19937(long seed) {
        state[0] = (int) seed; // seed & 0xffffffff
        for (int j = 1; j < N; j++) {
            int prev = state[j - 1];
            state[j] = 1812433253 * (prev ^ (prev >>> 30)) + j;
        }
        left = 1;
        next = 0;
    }

    /** The next 32 random bits ({@code operator()}), as an int holding the unsigned value. */
    int nextInt() {
        if (--left == 0) {
            nextState();
        }
        int y = state[next++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    private static int twist(int u, int v) {
        int mixed = (u & UMASK) | (v & LMASK);
        return (mixed >>> 1) ^ ((v & 1) != 0 ? MATRIX_A : 0);
    }

    private void nextState() {
        left = N;
        next = 0;
        int p = 0;
        for (int j = N - M + 1; --j > 0; p++) {
            state[p] = state[p + M] ^ twist(state[p], state[p + 1]);
        }
        for (int j = M; --j > 0; p++) {
            state[p] = state[p + M - N] ^ twist(state[p], state[p + 1]);
        }
        state[p] = state[p + M - N] ^ twist(state[p], state[0]);
    }
}
