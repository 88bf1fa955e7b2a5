package dev.banger.kernel;

import java.nio.file.Path;

/** Where {@code kernel pull} gets kernel packages: the host's apt ({@link AptKernelDownloader}). */
interface KernelDownloader {

    /** The package {@code metaPackage} names today; nothing is downloaded. */
    KernelPackage newest(String metaPackage, ProgressListener listener);

    /** Downloads {@code pkg} into the existing directory {@code dir} and returns its .deb there. */
    Path download(KernelPackage pkg, Path dir, ProgressListener listener);
}
