package dev.banger.image;

import dev.banger.image.layer.FlattenLimits;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How to pull one image.
 *
 * @param rootfsTarget where the ext4 root disk is published; must not exist yet, its directory must
 * @param insecure allow plain HTTP to a registry that is not on loopback
 * @param dockerConfig the docker client config to read credentials from, or null for the daemon user's
 *     ({@code $DOCKER_CONFIG/config.json} or ~/.docker/config.json)
 * @param limits bounds on the flattened content, or null for the puller's (the daemon's configured ones)
 * @param headroomBytes free space to leave in the root disk for the guest (sparse: costs nothing until written)
 * @param parallelFetches how many layers to download at once
 */
public record PullOptions(Path rootfsTarget, boolean insecure, Path dockerConfig, FlattenLimits limits,
                          long headroomBytes, int parallelFetches) {

    public static final long DEFAULT_HEADROOM = 1L << 30;
    public static final int DEFAULT_PARALLEL_FETCHES = 3;

    public PullOptions {
        Objects.requireNonNull(rootfsTarget, "rootfsTarget");
        if (headroomBytes < 0 || parallelFetches < 1) {
            throw new IllegalArgumentException("headroom must be >= 0 and parallel fetches >= 1");
        }
    }

    /** Defaults: HTTPS (plain HTTP for loopback only), the daemon user's docker config, the puller's limits, 1 GiB. */
    public static PullOptions to(Path rootfsTarget) {
        return new PullOptions(rootfsTarget, false, null, null, DEFAULT_HEADROOM,
                DEFAULT_PARALLEL_FETCHES);
    }

    public PullOptions withInsecure(boolean allowPlainHttp) {
        return new PullOptions(rootfsTarget, allowPlainHttp, dockerConfig, limits, headroomBytes, parallelFetches);
    }

    public PullOptions withDockerConfig(Path config) {
        return new PullOptions(rootfsTarget, insecure, config, limits, headroomBytes, parallelFetches);
    }

    public PullOptions withLimits(FlattenLimits newLimits) {
        return new PullOptions(rootfsTarget, insecure, dockerConfig, newLimits, headroomBytes, parallelFetches);
    }

    public PullOptions withHeadroom(long bytes) {
        return new PullOptions(rootfsTarget, insecure, dockerConfig, limits, bytes, parallelFetches);
    }
}
