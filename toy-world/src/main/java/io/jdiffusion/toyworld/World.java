package io.jdiffusion.toyworld;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The toy world: a centred {@link #SHAPES shape} in one {@link #COLOURS colour} on a background of another.
 * 7 shapes x 8 colours x 7 other colours = {@link #SCENE_COUNT} scenes.
 */
public final class World {
    private World() {
    }

    public static final List<String> SHAPES =
            List.of("circle", "square", "triangle", "star", "diamond", "cross", "hexagon");
    public static final List<String> COLOURS =
            List.of("red", "orange", "yellow", "green", "blue", "purple", "white", "black");
    /** The word that marks the colour before it as the background colour. */
    public static final String BACKGROUND = "background";

    /** 0-255 RGB of each colour, in {@link #COLOURS} order. */
    private static final int[][] RGB = {
        {230, 30, 30},   // red
        {255, 140, 0},   // orange
        {250, 220, 20},  // yellow
        {30, 170, 60},   // green
        {30, 70, 230},   // blue
        {140, 40, 190},  // purple
        {250, 250, 250}, // white
        {15, 15, 15},    // black
    };

    public static final int SCENE_COUNT = SHAPES.size() * COLOURS.size() * (COLOURS.size() - 1);

    /** A scene: shape index, foreground colour index, background colour index (never equal to fg). */
    public record Scene(int shape, int fg, int bg) {
        @Override
        public String toString() {
            return "a " + COLOURS.get(fg) + " " + SHAPES.get(shape) + " on a " + COLOURS.get(bg) + " background";
        }
    }

    /** The 0-255 RGB triple of a colour word (a copy). */
    public static int[] rgb(String colour) {
        int i = COLOURS.indexOf(colour);
        if (i < 0) throw new IllegalArgumentException("not a colour of the toy world: " + colour);
        return RGB[i].clone();
    }

    /** The colour whose RGB is nearest (Euclidean, 0-255) to the given pixel. */
    public static String nearestColour(int r, int g, int b) {
        String best = null;
        double bestD = Double.MAX_VALUE;
        for (int i = 0; i < RGB.length; i++) {
            double dr = r - RGB[i][0], dg = g - RGB[i][1], db = b - RGB[i][2];
            double d = dr * dr + dg * dg + db * db;
            if (d < bestD) {
                bestD = d;
                best = COLOURS.get(i);
            }
        }
        return best;
    }

    /**
     * All scenes in the order the UNet enumerates them: index k = shape * 56 + fg * 7 + j where j counts the
     * background colours other than fg in {@link #COLOURS} order.
     */
    public static List<Scene> scenes() {
        List<Scene> out = new ArrayList<>(SCENE_COUNT);
        for (int s = 0; s < SHAPES.size(); s++)
            for (int f = 0; f < COLOURS.size(); f++)
                for (int b = 0; b < COLOURS.size(); b++)
                    if (b != f) out.add(new Scene(s, f, b));
        return Collections.unmodifiableList(out);
    }

    /** The words that get feature dimensions in the text encoder: shapes, colours and "background". */
    public static List<String> words() {
        List<String> w = new ArrayList<>(SHAPES);
        w.addAll(COLOURS);
        w.add(BACKGROUND);
        return Collections.unmodifiableList(w);
    }
}
