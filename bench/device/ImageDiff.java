import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;

/**
 * Compares two images of the same size channel by channel (RGB, 0..255), as the golden parity tests do: prints the
 * mean absolute difference and the largest one. Used by the GPU check (gpu-bench.sh), which has no test runner.
 *
 * <pre>java ImageDiff expected.png actual.png</pre>
 */
public final class ImageDiff {
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: ImageDiff EXPECTED.png ACTUAL.png");
            System.exit(2);
        }
        BufferedImage a = read(args[0]);
        BufferedImage b = read(args[1]);
        if (a.getWidth() != b.getWidth() || a.getHeight() != b.getHeight()) {
            System.out.printf("size differs: %dx%d vs %dx%d%n", a.getWidth(), a.getHeight(), b.getWidth(), b.getHeight());
            System.exit(1);
        }
        long sum = 0;
        int max = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                for (int shift = 0; shift <= 16; shift += 8) {
                    int d = Math.abs(((p >> shift) & 0xff) - ((q >> shift) & 0xff));
                    sum += d;
                    max = Math.max(max, d);
                }
            }
        }
        double mean = (double) sum / (3.0 * a.getWidth() * a.getHeight());
        System.out.printf("mean %.4f/255 max %d%n", mean, max);
    }

    private static BufferedImage read(String path) throws IOException {
        BufferedImage img = ImageIO.read(new File(path));
        if (img == null) {
            throw new IOException(path + ": not an image ImageIO can read");
        }
        return img;
    }
}
