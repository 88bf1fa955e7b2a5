package dev.banger.kernel;

import java.nio.file.Path;

/** Unpacks the data part of a Debian package into a directory. */
interface DebExtractor {

    /** Extracts {@code deb}'s files under {@code dest}, which exists and is empty. */
    void extract(Path deb, Path dest);

    /** A short name for messages ("dpkg-deb", "built-in"). */
    String name();
}
