package dev.banger.image.layer;

import dev.banger.image.ImageException;

/**
 * Staging an image would take its place past the space budget all pulls share ({@link StagingBudget}), or leave the
 * file system there with too little free. A pull staging on tmpfs starts over on disk; on disk it is refused.
 */
public final class StagingSpaceException extends ImageException {

    private final StagingBudget.Place place;

    public StagingSpaceException(StagingBudget.Place place, String message) {
        super(message);
        this.place = place;
    }

    public StagingBudget.Place place() {
        return place;
    }

    /** The same refusal, its message prefixed with {@code context} (the layer and entry). */
    StagingSpaceException within(String context) {
        return new StagingSpaceException(place, context + ": " + getMessage());
    }
}
