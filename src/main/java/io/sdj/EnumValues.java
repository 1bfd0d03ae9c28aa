package io.sdj;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Reads a setting's value as one of an enum's constants, the way sdj's settings are spelled in text. */
public final class EnumValues {
    private EnumValues() {
    }

    /**
     * The constant named {@code text}: case-insensitive, surrounding blanks ignored, '-' accepted for '_'.
     *
     * @param parameter the setting's name, for the error
     * @throws InvalidParameterException naming the parameter and the accepted values, for anything else (also null)
     */
    public static <E extends Enum<E>> E parse(Class<E> type, String text, String parameter) {
        String wanted = text == null ? "" : text.trim().replace('-', '_');
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(wanted)) {
                return e;
            }
        }
        String accepted = Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", "));
        throw new InvalidParameterException(parameter, "'" + text + "' is not one of " + accepted);
    }
}
