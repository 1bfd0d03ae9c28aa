package io.sdj.cli;

import io.sdj.pipeline.Phase;
import io.sdj.pipeline.Progress;
import io.sdj.pipeline.ProgressListener;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Shows progress on stderr. On a terminal, loading and each image's sampling get a bar redrawn in place with
 * {@code \r}, like sd.cpp's: {@code |=========>          | 3/20 - 1.23s/it} (it/s when a step takes under a second).
 * Otherwise (a pipe, a log file) it prints plain lines: one when loading ends, one per sampling step and one per
 * decoded image.
 */
public final class ProgressPrinter implements ProgressListener {
    /** Width of the bar between the pipes, as in sd.cpp. */
    static final int BAR_WIDTH = 50;

    private final PrintStream err;
    private final boolean interactive;
    private final int batchCount;
    private int lastDrawnLoad = -1;
    private double lastStepSeconds;
    private boolean lineOpen;

    /**
     * @param err         where to print
     * @param interactive true to redraw bars in place (stderr is a terminal)
     * @param batchCount  images in the batch (labels "image i/n" when above 1)
     */
    public ProgressPrinter(PrintStream err, boolean interactive, int batchCount) {
        this.err = err;
        this.interactive = interactive;
        this.batchCount = batchCount;
    }

    @Override
    public void onProgress(Progress p) {
        switch (p.phase()) {
            case LOADING_WEIGHTS -> loading(p);
            case SAMPLING -> sampling(p);
            case DECODING -> {
                if (!interactive && p.step() == p.total() && p.total() > 0) {
                    err.printf(Locale.ROOT, "decoded%s in %.2fs%n", imageLabel(p.image()), p.seconds());
                }
            }
            case TEXT_ENCODING, IMAGE_ENCODING -> {
                if (!interactive && p.step() == p.total() && p.total() > 0) {
                    err.printf(Locale.ROOT, "%s done in %.2fs%n",
                            p.phase() == Phase.TEXT_ENCODING ? "text encoding" : "image encoding", p.seconds());
                }
            }
        }
        err.flush();
    }

    private void loading(Progress p) {
        if (p.total() <= 0) {
            return;
        }
        if (interactive) {
            int percent = (int) (100L * p.step() / p.total());
            if (percent != lastDrawnLoad || p.step() == p.total()) {
                lastDrawnLoad = percent;
                err.print("\rloading weights " + bar(p.step(), p.total()) + " " + p.step() + "/" + p.total()
                        + String.format(Locale.ROOT, " - %.2fs", p.seconds()) + "\033[K");
                lineOpen = true;
            }
            if (p.step() == p.total()) {
                endLine();
            }
        } else if (p.step() == p.total()) {
            err.printf(Locale.ROOT, "loaded %d tensors in %.2fs%n", p.total(), p.seconds());
        }
    }

    private void sampling(Progress p) {
        if (p.step() == 0) {
            lastStepSeconds = 0;
            return;
        }
        double dt = p.seconds() - lastStepSeconds;
        lastStepSeconds = p.seconds();
        String rate = rate(dt);
        if (interactive) {
            String label = batchCount > 1 ? "image " + (p.image() + 1) + "/" + batchCount + " " : "";
            err.print("\r" + label + bar(p.step(), p.total()) + " " + p.step() + "/" + p.total() + " - " + rate
                    + "\033[K");
            lineOpen = true;
            if (p.step() >= p.total()) {
                endLine();
            }
        } else {
            err.println("sampling" + imageLabel(p.image()) + ": step " + p.step() + "/" + p.total() + " - " + rate);
        }
    }

    /** Ends a bar line left open (before an error message, say). */
    public void endLine() {
        if (lineOpen) {
            err.println();
            lineOpen = false;
        }
    }

    private String imageLabel(int image) {
        return batchCount > 1 ? " image " + (image + 1) + "/" + batchCount : "";
    }

    /** {@code |=====>    |}: full cells up to the done fraction, a '>' head unless the bar is full. */
    static String bar(int done, int total) {
        int filled = total <= 0 ? 0 : (int) ((long) done * BAR_WIDTH / total);
        StringBuilder sb = new StringBuilder(BAR_WIDTH + 2).append('|');
        for (int i = 0; i < BAR_WIDTH; i++) {
            if (i < filled) {
                sb.append('=');
            } else if (i == filled && filled < BAR_WIDTH) {
                sb.append(done > 0 ? '>' : ' ');
            } else {
                sb.append(' ');
            }
        }
        return sb.append('|').toString();
    }

    /** Seconds per step as sd.cpp prints it: "1.23s/it", or "4.56it/s" when faster than one step a second. */
    static String rate(double secondsPerStep) {
        if (secondsPerStep >= 1.0 || secondsPerStep <= 0) {
            return String.format(Locale.ROOT, "%.2fs/it", Math.max(0, secondsPerStep));
        }
        return String.format(Locale.ROOT, "%.2fit/s", 1.0 / secondsPerStep);
    }
}
