package io.sdj.model;

import java.nio.file.Path;

/** Writes the default tiny SD 1.x checkpoint ({@link TinySd15Writer}) to the file named by the first argument. */
public final class WriteTinySd15 {
    private WriteTinySd15() {
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: WriteTinySd15 OUT.safetensors");
            System.exit(2);
        }
        TinySd15Writer.writeDefault(Path.of(args[0]));
        System.out.println("wrote the tiny SD 1.x checkpoint " + args[0]);
    }
}
