package dev.banger.api;

/** {@code image.promote}: capture stopped VM {@code vm}'s root disk as image {@code name}. */
public record ImagePromoteRequest(String vm, String name) {
}
