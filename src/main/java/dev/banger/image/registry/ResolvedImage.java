package dev.banger.image.registry;

import java.util.List;

/**
 * One linux/amd64 image, resolved from a reference: what to fetch and flatten.
 *
 * @param manifestDigest the digest of the manifest or index the reference named (for a docker-archive, which has
 *     no registry manifest, the image ID: the config digest)
 * @param config the image config blob
 * @param layers the layers, bottom first
 */
public record ResolvedImage(Digest manifestDigest, Descriptor config, List<Descriptor> layers) {

    public ResolvedImage {
        layers = List.copyOf(layers);
    }
}
