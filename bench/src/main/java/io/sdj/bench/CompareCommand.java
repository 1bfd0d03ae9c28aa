package io.sdj.bench;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The --compare command: a shell command line for another implementation (e.g. sd-cli) run on the same case.
 * Placeholders in braces take the benchmark's settings; {@code {prompt}} and {@code {model}} are inserted
 * single-quoted for the shell. With {@code {type}} in it the command runs once per configuration, else once per
 * repetition.
 */
public record CompareCommand(String template) {

    /** True when the command depends on the configuration's weight type. */
    public boolean perType() {
        return template.contains("{type}");
    }

    /** The command line for one configuration (null: none, when the command does not depend on it). */
    public String expand(EndToEndOptions o, Configuration c) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("model", shellQuote(o.model().toString()));
        v.put("prompt", shellQuote(o.prompt()));
        v.put("width", Integer.toString(o.width()));
        v.put("height", Integer.toString(o.height()));
        v.put("steps", Integer.toString(o.steps()));
        v.put("sampler", o.sampler());
        v.put("cfg", formatNumber(o.cfg()));
        v.put("seed", Long.toString(o.seed()));
        v.put("threads", Integer.toString(o.threads()));
        if (c != null) {
            v.put("type", c.type());
        }
        String s = template;
        for (Map.Entry<String, String> e : v.entrySet()) {
            s = s.replace("{" + e.getKey() + "}", e.getValue());
        }
        return s;
    }

    /** Wraps a string in single quotes for a POSIX shell. */
    static String shellQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static String formatNumber(float f) {
        return f == Math.rint(f) ? Long.toString((long) f) : String.format(Locale.ROOT, "%s", f);
    }
}
