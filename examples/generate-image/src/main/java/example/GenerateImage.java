package example;

import io.sdj.SdjException;
import io.sdj.pipeline.GenerationRequest;
import io.sdj.pipeline.GenerationResult;
import io.sdj.pipeline.StableDiffusion;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Loads a Stable Diffusion 1.x checkpoint, generates one image and writes it as PNG.
 *
 * <pre>GenerateImage MODEL.safetensors MERGES.txt OUT.png [PROMPT [SIZE [STEPS]]]</pre>
 */
public final class GenerateImage {
    private GenerateImage() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: GenerateImage MODEL.safetensors MERGES.txt OUT.png [PROMPT [SIZE [STEPS]]]");
            System.exit(2);
        }
        Path model = Path.of(args[0]);
        Path tokenizer = Path.of(args[1]);
        Path out = Path.of(args[2]);
        String prompt = args.length > 3 ? args[3] : "a lovely cat";
        int size = args.length > 4 ? Integer.parseInt(args[4]) : 512;
        int steps = args.length > 5 ? Integer.parseInt(args[5]) : 20;
        long start = System.nanoTime();
        try (StableDiffusion sd = StableDiffusion.builder().model(model).tokenizer(tokenizer).backend("cpu").build()) {
            GenerationResult result = sd.generate(GenerationRequest.builder(prompt).size(size, size).steps(steps)
                    .seed(42).build());
            BufferedImage image = result.images().getFirst().image();
            ImageIO.write(image, "png", out.toFile());
            System.out.printf("wrote %s (%dx%d) in %.1f s%n", out, image.getWidth(), image.getHeight(),
                    (System.nanoTime() - start) / 1e9);
        } catch (SdjException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }
}
