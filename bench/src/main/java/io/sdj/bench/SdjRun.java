package io.sdj.bench;

import io.sdj.SdjException;
import io.sdj.pipeline.GenerationRequest;
import io.sdj.pipeline.GenerationResult;
import io.sdj.pipeline.StableDiffusion;
import io.sdj.pipeline.WeightResidency;
import io.sdj.pipeline.Timings;
import io.sdj.sampling.SamplerKind;

import java.util.EnumMap;
import java.util.Map;

/**
 * One measured sdj run, in a JVM of its own so that its peak RSS is its own: loads the model for the one
 * configuration given ({@code --type} and {@code --backend} each name one value), generates one image, and prints
 * a {@link Sample} line on stdout. {@link EndToEnd} starts it through {@code native/bin/java}.
 */
public final class SdjRun {
    private SdjRun() {
    }

    public static void main(String[] args) {
        try {
            EndToEndOptions o = EndToEndOptions.parse(args);
            if (o.types().size() != 1 || o.backends().size() != 1) {
                throw new SdjException("a measured run takes one --type and one --backend, got " + o.types()
                        + " and " + o.backends());
            }
            System.out.println(run(o).toLine());
        } catch (SdjException e) {
            System.err.println("sdj-bench run: " + e.getMessage());
            System.exit(2);
        }
    }

    /** Loads, generates once, and returns the figures (peak RSS read at the end, model still open). */
    static Sample run(EndToEndOptions o) {
        long t0 = System.nanoTime();
        Map<Metric, Double> v = new EnumMap<>(Metric.class);
        try (StableDiffusion sd = StableDiffusion.builder()
                .model(o.model())
                .tokenizer(o.tokenizer())
                .backend(o.backends().getFirst())
                .threads(o.threads())
                .weightType(EndToEndOptions.weightType(o.types().getFirst()))
                .diffusionConvType(EndToEndOptions.diffusionConvType(o.types().getFirst()))
                .blas(EndToEndOptions.blas(o.types().getFirst()))
                .residency(WeightResidency.ON_DEMAND) // as the CLI runs one generation: each part loaded, then freed
                .build()) {
            GenerationRequest request = GenerationRequest.builder(o.prompt())
                    .size(o.width(), o.height())
                    .steps(o.steps())
                    .sampler(SamplerKind.fromName(o.sampler()))
                    .cfgScale(o.cfg())
                    .seed(o.seed())
                    .build();
            long g0 = System.nanoTime();
            GenerationResult r = sd.generate(request);
            double generate = (System.nanoTime() - g0) / 1e9;
            double total = (System.nanoTime() - t0) / 1e9;
            Timings t = r.timings();
            v.put(Metric.LOAD, sd.loadSeconds());
            v.put(Metric.TEXT, t.textEncoding());
            v.put(Metric.STEP, t.secondsPerStep(request.batchCount()));
            v.put(Metric.DECODE, t.decoding());
            v.put(Metric.GENERATE, generate);
            v.put(Metric.TOTAL, total);
            v.put(Metric.RSS, PeakRss.mebibytes());
        }
        return new Sample(v);
    }
}
