package dev.banger.image.layer;

import dev.banger.image.ImageException;

/**
 * The operating system refused an entry of a layer (a full disk, a permission, a node the host cannot make). The
 * message is one line naming the layer, the entry as the layer names it (not the staging path) and the OS error;
 * the caller removes the partial tree.
 */
public final class LayerEntryException extends ImageException {

    public LayerEntryException(String layer, String entry, String reason, Throwable cause) {
        super(layer + ": entry '" + UnsafeLayerException.shorten(entry) + "': " + reason, cause);
    }
}
