package dev.banger.api;

/**
 * {@code kernel.pull}: fetch the host distribution's current cloud kernel.
 *
 * @param name name for it, or null to derive one from its version
 * @param makeDefault make it the default kernel (the first kernel always becomes the default)
 */
public record KernelPullRequest(String name, boolean makeDefault) {
}
