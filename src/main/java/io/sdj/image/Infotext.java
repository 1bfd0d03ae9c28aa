package io.sdj.image;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An sd-webui style infotext read back into its parts: the prompt, the negative prompt and the settings line as an
 * ordered map ("Steps" → "20", "Sampler" → "euler_a discrete", "SDCPP" → the JSON text, ...).
 *
 * <p>Rules: the last line is the settings line when it has a "Steps: " entry; a line starting with
 * "Negative prompt: " starts the negative prompt, which runs to the settings line; everything before is the prompt.
 * Settings are "Key: value" entries separated by ", "; a value starting with '{' or '[' runs to its matching bracket
 * (JSON strings respected) and a value starting with '"' to its closing quote.
 *
 * @param prompt         the positive prompt
 * @param negativePrompt the negative prompt ("" when absent)
 * @param settings       the settings in order (unmodifiable)
 */
public record Infotext(String prompt, String negativePrompt, Map<String, String> settings) {

    private static final String NEGATIVE = "Negative prompt: ";

    public Infotext {
        settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
    }

    /** One setting, if present. */
    public Optional<String> get(String key) {
        return Optional.ofNullable(settings.get(key));
    }

    /** Splits an infotext. */
    public static Infotext parse(String text) {
        String body = text;
        Map<String, String> settings = new LinkedHashMap<>();
        int lastNl = text.lastIndexOf('\n');
        String lastLine = text.substring(lastNl + 1);
        if (lastLine.startsWith("Steps: ") || lastLine.contains(", Steps: ")) {
            settings = parseSettings(lastLine);
            body = lastNl < 0 ? "" : text.substring(0, lastNl);
        }
        String prompt;
        String negative = "";
        int neg = body.startsWith(NEGATIVE) ? 0 : body.indexOf("\n" + NEGATIVE);
        if (neg < 0) {
            prompt = body;
        } else {
            prompt = neg == 0 ? "" : body.substring(0, neg);
            negative = body.substring(neg == 0 ? NEGATIVE.length() : neg + 1 + NEGATIVE.length());
        }
        return new Infotext(prompt, negative, settings);
    }

    private static Map<String, String> parseSettings(String line) {
        Map<String, String> out = new LinkedHashMap<>();
        int i = 0;
        int n = line.length();
        while (i < n) {
            int colon = line.indexOf(": ", i);
            if (colon < 0) {
                out.put(line.substring(i).trim(), "");
                break;
            }
            String key = line.substring(i, colon).trim();
            int v = colon + 2;
            int end;
            char c = v < n ? line.charAt(v) : ' ';
            if (c == '{' || c == '[') {
                end = matchBracket(line, v);
            } else if (c == '"') {
                end = closingQuote(line, v) + 1;
            } else {
                int comma = line.indexOf(", ", v);
                end = comma < 0 ? n : comma;
            }
            out.put(key, line.substring(v, end));
            i = end;
            if (line.startsWith(", ", i)) {
                i += 2;
            } else {
                int comma = line.indexOf(", ", i);
                i = comma < 0 ? n : comma + 2;
            }
        }
        return out;
    }

    /** Index just past the bracket matching the one at {@code start}, or the end of the line when unbalanced. */
    private static int matchBracket(String s, int start) {
        int depth = 0;
        boolean inString = false;
        for (int i = start; i < s.length(); i++) {
            char c = s.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
                if (depth == 0) {
                    return i + 1;
                }
            }
        }
        return s.length();
    }

    private static int closingQuote(String s, int start) {
        for (int i = start + 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                return i;
            }
        }
        return s.length() - 1;
    }
}
