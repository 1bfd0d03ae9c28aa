package io.sdj.family;

import io.sdj.InvalidParameterException;
import io.sdj.runtime.GgmlType;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One entry of sd-cli's {@code --tensor-type-rules}: tensors whose name contains a match of {@code pattern} (a
 * regular-expression search, as sd.cpp's {@code std::regex_search}) get {@code type} instead of {@code --type}. The
 * first matching rule wins. A rule only changes what {@code --type} would change: the type policy's own exceptions
 * (F16 convolution kernels, F32 norms and biases, embeddings, rows that do not fit a block) still apply, as in
 * sd.cpp.
 *
 * @param pattern the regular expression, searched in the tensor's full name ({@code model.diffusion_model.…},
 *                {@code first_stage_model.…}, {@code cond_stage_model.…})
 * @param type    the weight type for the tensors it matches
 */
public record TensorTypeRule(Pattern pattern, GgmlType type) {
    /** The parameter name errors carry. */
    public static final String PARAMETER = "tensor-type-rules";

    public TensorTypeRule {
        if (pattern == null || type == null) {
            throw new InvalidParameterException(PARAMETER, "a rule needs a pattern and a type");
        }
        if (!type.isWeightType()) {
            throw new InvalidParameterException(PARAMETER, type.cliName() + " is not a weight type");
        }
    }

    /** True when the rule applies to the tensor named {@code tensorName}. */
    public boolean matches(String tensorName) {
        return pattern.matcher(tensorName).find();
    }

    /**
     * Parses sd-cli's syntax: comma-separated {@code PATTERN=TYPE} entries, e.g.
     * {@code "^first_stage_model\.=f16,model\.diffusion_model\.=q8_0"}; empty entries are skipped. sd.cpp skips a
     * malformed entry with a warning; sdj refuses it, naming the entry.
     *
     * @throws InvalidParameterException for an entry without {@code =}, with an empty pattern, an unknown or
     *                                   non-weight type, or a pattern that is not a regular expression
     */
    public static List<TensorTypeRule> parse(String rules) {
        List<TensorTypeRule> out = new ArrayList<>();
        if (rules == null) {
            return out;
        }
        for (String item : rules.split(",", -1)) {
            String entry = item.strip();
            if (entry.isEmpty()) {
                continue;
            }
            int eq = entry.lastIndexOf('=');
            if (eq <= 0 || eq == entry.length() - 1) {
                throw new InvalidParameterException(PARAMETER, "entry '" + entry
                        + "' is not PATTERN=TYPE (e.g. model\\.diffusion_model\\.=q8_0)");
            }
            String typeName = entry.substring(eq + 1).strip();
            GgmlType type;
            try {
                type = GgmlType.fromName(PARAMETER, typeName);
            } catch (InvalidParameterException e) {
                throw new InvalidParameterException(PARAMETER, "entry '" + entry + "': unknown weight type '"
                        + typeName + "'; expected one of " + GgmlType.weightTypeNames());
            }
            if (!type.isWeightType()) {
                throw new InvalidParameterException(PARAMETER, "entry '" + entry + "': " + type.cliName()
                        + " is not a weight type; expected one of " + GgmlType.weightTypeNames());
            }
            String pattern = entry.substring(0, eq).strip(); // tensor names hold no spaces
            Pattern p;
            try {
                p = Pattern.compile(pattern);
            } catch (PatternSyntaxException e) {
                throw new InvalidParameterException(PARAMETER, "entry '" + entry + "': '" + pattern
                        + "' is not a regular expression (" + e.getDescription() + ")");
            }
            out.add(new TensorTypeRule(p, type));
        }
        return List.copyOf(out);
    }

    /** The rules that match none of {@code names} (to warn about: sd.cpp's and sdj's names can differ). */
    public static List<TensorTypeRule> unmatched(List<TensorTypeRule> rules, java.util.Collection<String> names) {
        return rules.stream().filter(r -> names.stream().noneMatch(r::matches)).toList();
    }

    /** The rules in sd-cli's syntax. */
    public static String format(List<TensorTypeRule> rules) {
        return String.join(",", rules.stream().map(r -> r.pattern.pattern() + "=" + r.type.cliName()).toList());
    }
}
