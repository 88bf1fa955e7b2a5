package dev.banger.api;

/** Names one VM. */
public record VmRef(String name) {
}
