package dev.banger.image.layer;

import dev.banger.image.ImageException;

/**
 * A layer entry would escape or corrupt the staging tree (absolute path, {@code ..}, a path through a symlink, a
 * hardlink to outside, an over-long name), or the layers exceed the configured size or entry limits. The message
 * names the layer and the entry; the caller removes the partial tree.
 */
public final class UnsafeLayerException extends ImageException {

    private final String layer;
    private final String entry;

    public UnsafeLayerException(String layer, String entry, String reason) {
        super(layer + ": entry '" + shorten(entry) + "': " + reason);
        this.layer = layer;
        this.entry = entry;
    }

    public String layer() {
        return layer;
    }

    public String entry() {
        return entry;
    }

    static String shorten(String entry) {
        if (entry == null) {
            return "(none)";
        }
        String printable = entry.replaceAll("\\p{Cntrl}", "?");
        return printable.length() <= 200 ? printable
                : printable.substring(0, 200) + "...(" + printable.length() + " characters)";
    }
}
