package dev.banger.api;

/** Names one image. */
public record ImageRef(String name) {
}
