package io.sdj.runtime;

/**
 * One ggml backend device.
 *
 * @param index       position in ggml's device list
 * @param name        ggml's device name ("CPU", "Vulkan0", "CUDA0", ...)
 * @param description the hardware description ggml reports
 * @param backend     the name of the backend the device belongs to ("CPU", "Vulkan", "CUDA", ...)
 * @param type        CPU, GPU, integrated GPU or accelerator
 * @param freeBytes   free memory as ggml reports it
 * @param totalBytes  total memory as ggml reports it
 */
public record DeviceInfo(int index, String name, String description, String backend, Type type, long freeBytes,
                         long totalBytes) {

    /** ggml's enum ggml_backend_dev_type. */
    public enum Type {
        CPU, GPU, IGPU, ACCEL, META, UNKNOWN;

        static Type of(int id) {
            return switch (id) {
                case 0 -> CPU;
                case 1 -> GPU;
                case 2 -> IGPU;
                case 3 -> ACCEL;
                case 4 -> META;
                default -> UNKNOWN;
            };
        }
    }

    /** A software rasterizer such as Mesa's lavapipe/llvmpipe: a Vulkan device that runs on the CPU. */
    public boolean isSoftware() {
        String d = description.toLowerCase(java.util.Locale.ROOT);
        return d.contains("llvmpipe") || d.contains("lavapipe") || d.contains("swiftshader");
    }

    @Override
    public String toString() {
        return String.format("%s (%s, %s%s, %.1f/%.1f GiB free)", name, description, type,
                isSoftware() ? ", software" : "", freeBytes / 1073741824.0, totalBytes / 1073741824.0);
    }
}
