package dev.banger.api;

/** Names one session of one VM. */
public record SessionRef(String vm, String session) {
}
