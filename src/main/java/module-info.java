/**
 * sdj: Stable Diffusion for the JVM on ggml through the Foreign Function &amp; Memory API.
 *
 * <p>API: {@link io.sdj.pipeline.StableDiffusion} (load a model, generate images) with its request, result and
 * progress types; the exceptions in {@code io.sdj}; and the value types the API names (weight types and backends in
 * {@code io.sdj.runtime}, model configuration and file errors in {@code io.sdj.model}, samplers and schedules in
 * {@code io.sdj.sampling}, the tokenizer in {@code io.sdj.text}, PNG parameters in {@code io.sdj.image}).
 *
 * <p>Not exported: the generated ggml bindings ({@code io.sdj.ggml}), the network code ({@code io.sdj.nn},
 * {@code io.sdj.unet}, {@code io.sdj.vae}) and the command line ({@code io.sdj.cli}; run it with
 * {@code -m io.sdj/io.sdj.cli.Main}). The module needs native access: {@code --enable-native-access=io.sdj}
 * (or {@code ALL-UNNAMED} on the class path).
 */
module io.sdj {
    requires transitive java.desktop; // BufferedImage in results, ImageIO for PNG files
    requires java.net.http;           // model and tokenizer downloads
    requires org.slf4j;

    exports io.sdj;
    exports io.sdj.pipeline;
    exports io.sdj.adapters;
    exports io.sdj.family;
    exports io.sdj.hub;
    exports io.sdj.runtime;
    exports io.sdj.model;
    exports io.sdj.sampling;
    exports io.sdj.text;
    exports io.sdj.image;
}
