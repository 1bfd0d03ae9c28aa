package io.sdj.hub;

/**
 * One progress report of a hub download.
 *
 * @param file       the file being downloaded
 * @param bytes      bytes on disk so far (a resumed download includes what an earlier run fetched)
 * @param totalBytes the file's size, or -1 when the hub did not say
 * @param resumedAt  the byte the download resumed at (0 for a fresh one)
 * @param done       true on the last report, once the file is complete and verified
 */
public record DownloadProgress(HubFileRef file, long bytes, long totalBytes, long resumedAt, boolean done) {

    /** Completed fraction in [0, 1], or -1 when the size is unknown. */
    public double fraction() {
        return totalBytes > 0 ? Math.min(1.0, (double) bytes / totalBytes) : totalBytes == 0 ? 1.0 : -1;
    }
}
