package dev.banger.api;

/** Names one create operation ({@code op-...}), as {@code vm create} announces it. */
public record OperationRef(String operation) {
}
