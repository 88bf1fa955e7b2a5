package dev.banger.kernel;

import dev.banger.model.KernelFormat;
import java.util.Optional;

/**
 * What {@link KernelImageInspector} learned from a kernel file.
 *
 * @param format its layout
 * @param version the release string embedded in the image, when it has one that can be read
 */
record KernelImage(KernelFormat format, Optional<String> version) {
}
