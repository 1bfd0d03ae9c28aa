package io.sdj.bench;

/**
 * A figure the end-to-end benchmark reports for each configuration. {@link #key()} is how a measured JVM names it
 * on its result line.
 */
public enum Metric {
    /** Building the model: tokenizer, reading the checkpoint, type conversion, upload to the backend. */
    LOAD("load", "load", "s"),
    /** CLIP for the prompt and the negative prompt (tokenizing included). */
    TEXT("text", "text encoding", "s"),
    /** Sampling time divided by the number of steps (each step is two U-Net passes when cfg != 1). */
    STEP("step", "sampling / step", "s"),
    /** The VAE decoder, latent to pixels. */
    DECODE("decode", "VAE decode", "s"),
    /** The whole generate() call: text encoding, sampling, decoding. */
    GENERATE("generate", "generate", "s"),
    /** Load plus generate, as timed inside the measured JVM. */
    TOTAL("total", "total (load+gen)", "s"),
    /** Wall time of the whole child process as the parent sees it: JVM start, load, generate, exit. */
    PROCESS("process", "process wall", "s"),
    /** Peak resident set size of the process (VmHWM for sdj, GNU time's maximum RSS for --compare). */
    RSS("rss", "peak RSS", "MiB");

    private final String key;
    private final String label;
    private final String unit;

    Metric(String key, String label, String unit) {
        this.key = key;
        this.label = label;
        this.unit = unit;
    }

    /** The name on a result line. */
    public String key() {
        return key;
    }

    /** The row label of the table. */
    public String label() {
        return label;
    }

    public String unit() {
        return unit;
    }

    /** The metric a result-line key names. */
    public static Metric ofKey(String key) {
        for (Metric m : values()) {
            if (m.key.equals(key)) {
                return m;
            }
        }
        throw new IllegalArgumentException("no metric '" + key + "'");
    }
}
