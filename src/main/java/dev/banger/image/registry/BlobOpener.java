package dev.banger.image.registry;

import java.io.IOException;
import java.io.InputStream;

/** Opens a blob's content for reading; only called when the content store lacks the blob. The caller closes it. */
@FunctionalInterface
public interface BlobOpener {

    InputStream open() throws IOException;
}
