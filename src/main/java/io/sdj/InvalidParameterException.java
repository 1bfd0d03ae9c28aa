package io.sdj;

/** A request or setting has a value sdj cannot use; the message names the parameter and the accepted values. */
public class InvalidParameterException extends SdjException {
    private final String parameter;

    public InvalidParameterException(String parameter, String message) {
        super(parameter + ": " + message);
        this.parameter = parameter;
    }

    /** The name of the offending parameter, as the API or CLI spells it. */
    public String parameter() {
        return parameter;
    }
}
