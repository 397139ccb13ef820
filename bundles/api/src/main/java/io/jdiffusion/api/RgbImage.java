package io.jdiffusion.api;

/**
 * An image as modes receive it: planar RGB, {@code [3, height, width]}, values in [0, 1] (the
 * layout the VAE works in and the engine decodes to). The engine decodes the images a mode
 * declares in {@link GenerationMode#imageInputs()} into this type, already fitted to the
 * request's width and height.
 *
 * @param rgb red plane, then green, then blue; each row by row
 */
public record RgbImage(int width, int height, float[] rgb) {
    public RgbImage {
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (rgb == null || rgb.length != 3 * width * height) {
            throw new IllegalArgumentException("expected 3 x " + height + " x " + width + " values, got "
                    + (rgb == null ? "none" : rgb.length));
        }
    }

    /** Channel {@code c} (0 red, 1 green, 2 blue) at pixel {@code (x, y)}. */
    public float get(int c, int x, int y) {
        return rgb[(c * height + y) * width + x];
    }
}
