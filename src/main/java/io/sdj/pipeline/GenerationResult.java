package io.sdj.pipeline;

import java.util.List;

/**
 * The images of one request, with the parameters actually used (the resolved seed and scheduler) and timings.
 */
public record GenerationResult(List<GeneratedImage> images, GenerationRequest request, Timings timings) {
    public GenerationResult {
        images = List.copyOf(images);
    }
}
