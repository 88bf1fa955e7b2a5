package dev.banger.api;

/** Names one kernel. */
public record KernelRef(String name) {
}
