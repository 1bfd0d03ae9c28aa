package io.sdj.model;

/** Model families and file layouts sdj recognises; only {@link #SD1} runs. */
public enum ModelVersion {
    /** Stable Diffusion 1.x, original LDM single-file layout (also scaled-down test models of that shape). */
    SD1("SD 1.x", true),
    /** SD 1.x inpainting U-Net (9 input channels). */
    SD1_INPAINT("SD 1.x inpainting", false),
    /** SD 1.x InstructPix2Pix U-Net (8 input channels). */
    SD1_PIX2PIX("SD 1.x InstructPix2Pix", false),
    /** Stable Diffusion 2.x (OpenCLIP ViT-H text encoder, cross-attention context 1024). */
    SD2("SD 2.x", false),
    /** Stable Diffusion XL (two text encoders under conditioner.embedders, context 2048). */
    SDXL("SDXL", false),
    /** A diffusers folder or a diffusers-named component file. */
    DIFFUSERS("diffusers layout", false),
    /** Nothing sdj knows. */
    UNKNOWN("unknown model", false);

    private final String displayName;
    private final boolean supported;

    ModelVersion(String displayName, boolean supported) {
        this.displayName = displayName;
        this.supported = supported;
    }

    /** A human name, e.g. "SD 1.x" (as sd.cpp logs the version). */
    public String displayName() {
        return displayName;
    }

    /** True when sdj can run models of this kind. */
    public boolean supported() {
        return supported;
    }
}
