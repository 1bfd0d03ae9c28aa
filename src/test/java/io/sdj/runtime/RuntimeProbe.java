package io.sdj.runtime;

/** Test helper run in a separate JVM: loads the runtime and prints what happened. */
public final class RuntimeProbe {
    public static void main(String[] args) {
        try {
            System.out.println("loaded from " + GgmlLibrary.load());
        } catch (RuntimeUnavailableException e) {
            System.out.println(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
