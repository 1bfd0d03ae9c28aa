package io.sdj.image;

import io.sdj.SdjException;

/** An image file is malformed or is not what was expected (not a PNG, bad chunk CRC, truncated chunk, ...). */
public class ImageFormatException extends SdjException {
    public ImageFormatException(String message) {
        super(message);
    }

    public ImageFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
