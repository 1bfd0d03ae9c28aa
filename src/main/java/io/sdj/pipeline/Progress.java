package io.sdj.pipeline;

/**
 * One progress report.
 *
 * @param phase   what is running
 * @param step    steps done within the phase (1-based once a step has finished)
 * @param total   steps in the phase
 * @param image   which image of the batch (0-based)
 * @param seconds seconds spent in this phase so far
 */
public record Progress(Phase phase, int step, int total, int image, double seconds) {
}
