package io.sdj.hub;

/**
 * A hub file is needed but is not in the local cache, and the hub could not be asked: offline mode is on
 * ({@code HF_HUB_OFFLINE=1}) or the endpoint could not be reached.
 */
public class HubNotCachedException extends HubException {
    private final HubFileRef file;
    private final HubSettings settings;

    public HubNotCachedException(HubFileRef file, HubSettings settings, Throwable cause) {
        super(file + " is not in the Hugging Face cache " + settings.cacheDir() + " and "
                + (settings.offline()
                        ? "offline mode is on (HF_HUB_OFFLINE), so it cannot be downloaded"
                        : "the hub at " + settings.endpoint() + " could not be reached"
                                + (cause == null || cause.getMessage() == null ? "" : " (" + cause.getMessage() + ")")),
                cause);
        this.file = file;
        this.settings = settings;
    }

    /** The file that was looked for. */
    public HubFileRef file() {
        return file;
    }

    /** The settings in force (cache folder, endpoint, offline mode). */
    public HubSettings settings() {
        return settings;
    }

    /** True when offline mode kept the hub from being asked; false when the hub could not be reached. */
    public boolean offline() {
        return settings.offline();
    }
}
