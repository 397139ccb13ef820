package io.jdiffusion.conditioning.clip;

/**
 * A1111's "Original" emphasis ({@code EmphasisOriginal} in modules/sd_emphasis.py): each token's
 * hidden state is multiplied by its weight, then the whole batch is rescaled so its mean is what
 * it was, so weights shift attention between tokens instead of scaling the prompt as a whole.
 */
final class Emphasis {
    private Emphasis() {
    }

    /**
     * Applies the multipliers to the given rows of {@code hidden} in place, with one mean over all of
     * them (A1111 takes it over the batch it encoded together).
     *
     * @param hidden      {@code [rows, length, width]} flat
     * @param rows        which rows form the batch; a row may be listed more than once (it counts
     *                    as often towards the means, and is weighted once)
     * @param multipliers per listed row, {@code length} weights
     */
    static void apply(float[] hidden, int length, int width, int[] rows, float[][] multipliers) {
        int rowSize = length * width;
        double before = 0;
        double after = 0;
        for (int r = 0; r < rows.length; r++) {
            int base = rows[r] * rowSize;
            for (int t = 0; t < length; t++) {
                double sum = 0;
                for (int c = 0; c < width; c++) {
                    sum += hidden[base + t * width + c];
                }
                before += sum;
                after += sum * multipliers[r][t];
            }
        }
        if (after == 0 || before == after) { // nothing to rescale (A1111 would divide by zero here)
            scale(hidden, length, width, rows, multipliers, 1f);
            return;
        }
        scale(hidden, length, width, rows, multipliers, (float) (before / after));
    }

    private static void scale(float[] hidden, int length, int width, int[] rows, float[][] multipliers, float ratio) {
        int rowSize = length * width;
        boolean[] done = new boolean[hidden.length / rowSize];
        for (int r = 0; r < rows.length; r++) {
            if (done[rows[r]]) {
                continue;
            }
            done[rows[r]] = true;
            int base = rows[r] * rowSize;
            for (int t = 0; t < length; t++) {
                float m = multipliers[r][t];
                for (int c = 0; c < width; c++) {
                    int i = base + t * width + c;
                    hidden[i] = hidden[i] * m * ratio;
                }
            }
        }
    }
}
