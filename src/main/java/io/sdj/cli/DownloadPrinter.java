package io.sdj.cli;

import io.sdj.hub.DownloadListener;
import io.sdj.hub.DownloadProgress;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Shows hub downloads on stderr: on a terminal one line per file redrawn in place
 * ({@code downloading hf://org/name/file  42% 1.2 MiB of 2.9 MiB}); otherwise a line when a file starts and one when
 * it is complete.
 */
final class DownloadPrinter implements DownloadListener {
    private final PrintStream err;
    private final boolean interactive;

    DownloadPrinter(PrintStream err, boolean interactive) {
        this.err = err;
        this.interactive = interactive;
    }

    @Override
    public void onProgress(DownloadProgress p) {
        String size = p.totalBytes() >= 0 ? mib(p.totalBytes()) : "size unknown";
        if (interactive) {
            String pct = p.fraction() >= 0 ? String.format(Locale.ROOT, "%3d%%", Math.round(p.fraction() * 100)) : "";
            err.printf(Locale.ROOT, "\rdownloading %s %s %s of %s%s", p.file(), pct, mib(p.bytes()), size,
                    p.done() ? System.lineSeparator() : "");
        } else if (p.done()) {
            err.printf(Locale.ROOT, "downloaded %s (%s)%n", p.file(), mib(p.bytes()));
        } else if (p.bytes() == p.resumedAt()) {
            err.printf(Locale.ROOT, "downloading %s (%s)%s%n", p.file(), size,
                    p.resumedAt() > 0 ? ", resuming at " + mib(p.resumedAt()) : "");
        }
        err.flush();
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
    }
}
