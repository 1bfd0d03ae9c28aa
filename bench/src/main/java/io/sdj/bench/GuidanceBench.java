package io.sdj.bench;

import io.sdj.family.GuidanceBatching;
import io.sdj.pipeline.GenerationRequest;
import io.sdj.pipeline.GenerationResult;
import io.sdj.pipeline.StableDiffusion;
import io.sdj.runtime.GgmlType;
import io.sdj.sampling.SamplerKind;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Classifier-free guidance as two U-Net passes per step against one batch of two, in one JVM, alternating: two
 * instances of the same model (one per mode; with memory-mapped weights they share the checkpoint's pages), a
 * warm-up generation each (the U-Net graph is built and allocated there), then {@code reps} timed generations each,
 * A B A B. Prints the median seconds per sampling step of each mode, their ratio, and whether the images are
 * identical.
 *
 * <pre>
 * native/bin/java -cp bench/target/sdj-bench.jar io.sdj.bench.GuidanceBench MODEL MERGES [size steps reps threads type attention]
 * </pre>
 */
public final class GuidanceBench {
    private GuidanceBench() {
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: GuidanceBench MODEL MERGES [size=256 steps=2 reps=3 threads=2 type=f16|file attention=flash|regular]");
            System.exit(2);
        }
        Path model = Path.of(args[0]);
        Path merges = Path.of(args[1]);
        int size = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        int reps = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        int threads = args.length > 5 ? Integer.parseInt(args[5]) : 2;
        GgmlType type = args.length > 6 ? EndToEndOptions.weightType(args[6]) : null;
        boolean flash = args.length <= 7 || !"regular".equals(args[7]);
        GuidanceBatching[] modes = {GuidanceBatching.TWO_PASS, GuidanceBatching.BATCHED};
        GenerationRequest request = GenerationRequest.builder("a photograph of an astronaut riding a horse")
                .negativePrompt("blurry").size(size, size).steps(steps).sampler(SamplerKind.fromName("euler_a"))
                .cfgScale(7f).seed(42).build();
        StableDiffusion[] sd = new StableDiffusion[2];
        try {
            for (int m = 0; m < 2; m++) {
                sd[m] = StableDiffusion.builder().model(model).tokenizer(merges).backend("cpu").threads(threads)
                        .weightType(type).guidanceBatching(modes[m]).flashAttention(flash, false).build();
            }
            int[][] first = new int[2][];
            for (int m = 0; m < 2; m++) {
                GenerationResult r = sd[m].generate(request);
                first[m] = pixels(r.images().getFirst().image());
                System.err.printf(Locale.ROOT, "warm-up %s: %.2f s/step%n", modes[m], r.timings().secondsPerStep(1));
            }
            List<List<Double>> perStep = List.of(new ArrayList<>(), new ArrayList<>());
            boolean identical = Arrays.equals(first[0], first[1]);
            for (int r = 0; r < reps; r++) {
                for (int m = 0; m < 2; m++) {
                    GenerationResult g = sd[m].generate(request);
                    double s = g.timings().secondsPerStep(1);
                    perStep.get(m).add(s);
                    identical &= Arrays.equals(first[0], pixels(g.images().getFirst().image()));
                    System.err.printf(Locale.ROOT, "rep %d %s: %.2f s/step%n", r + 1, modes[m], s);
                }
            }
            double a = Stats.median(perStep.get(0));
            double b = Stats.median(perStep.get(1));
            System.out.printf(Locale.ROOT, """
                    guidance batching, %dx%d, %d steps, cfg 7, %d thread(s), %s weights, %s attention, %d rep(s), medians:
                    two passes      %8.3f s/step
                    batch of two    %8.3f s/step   %.2fx of two passes
                    images identical: %s
                    """, size, size, steps, threads, type == null ? "file" : type, flash ? "flash" : "regular", reps, a, b, b / a, identical);
        } finally {
            for (StableDiffusion s : sd) {
                if (s != null) {
                    s.close();
                }
            }
        }
    }

    private static int[] pixels(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }
}
