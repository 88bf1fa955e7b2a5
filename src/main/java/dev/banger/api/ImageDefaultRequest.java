package dev.banger.api;

/**
 * {@code image default [NAME]}.
 *
 * @param name the image to make the default, or null to only show which one is
 */
public record ImageDefaultRequest(String name) {
}
