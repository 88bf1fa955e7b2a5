package dev.banger.api;

/**
 * {@code template.prune}: removes templates no VM would restore from any more (their image, kernel or VMM changed
 * or is gone), or all of them.
 */
public record TemplatePruneRequest(boolean all) {
}
