package io.sdj.bench;

import io.sdj.text.ClipTokenizer;
import io.sdj.text.TokenizedPrompt;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * CLIP tokenization of a prompt as the pipeline does it ({@link ClipTokenizer#tokenizeWeighted}: attention parsing,
 * BPE, 77-token windows), for a short prompt and one of about 150 tokens (two windows). The merges file comes from
 * the {@code sdj.merges} system property, default {@value EndToEndOptions#DEFAULT_TOKENIZER}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TokenizerBench {
    /** A short prompt: 3 tokens. */
    public static final String SHORT = "a lovely cat";
    /** A long prompt with attention weights: 150 tokens, two windows. */
    public static final String LONG = "a (highly detailed:1.2) photograph of an astronaut riding a white horse across "
            + "a red desert at sunset, dramatic clouds, volumetric light, dust in the air, 35mm film, shallow depth of "
            + "field, [blurry background], cinematic composition, golden hour, long shadows, intricate spacesuit with "
            + "scratches and mission patches, reflective visor showing the dunes, the horse's mane flowing in the "
            + "wind, hoof prints in the sand, distant mountains, a small rover parked behind a rock, a faint moon in "
            + "the sky, warm and cold colour contrast, ((masterpiece)), best quality, sharp focus, award winning "
            + "photo by a famous photographer, trending on an art site, 8k uhd, film grain, soft vignette, natural "
            + "skin tones, realistic lighting, high dynamic range";

    @Param({"short", "long"})
    public String prompt;

    private ClipTokenizer tokenizer;
    private String text;

    @Setup(Level.Trial)
    public void load() {
        tokenizer = ClipTokenizer.fromMerges(Path.of(System.getProperty("sdj.merges", EndToEndOptions.DEFAULT_TOKENIZER)));
        text = prompt.equals("long") ? LONG : SHORT;
    }

    @Benchmark
    public TokenizedPrompt tokenizeWeighted() {
        return tokenizer.tokenizeWeighted(text);
    }
}
