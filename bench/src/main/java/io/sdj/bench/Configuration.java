package io.sdj.bench;

/**
 * One measured sdj configuration: a weight type (sd.cpp's spelling, or {@code file}) on a backend.
 */
public record Configuration(String type, String backend) {
    /** How the table names it, e.g. {@code q4_0/cpu}. */
    public String label() {
        return type + "/" + backend;
    }
}
