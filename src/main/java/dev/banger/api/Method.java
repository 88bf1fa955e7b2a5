package dev.banger.api;

/**
 * One RPC operation: its wire name and the types of its request and final result. Streaming methods also emit
 * {@link Event}s before the result.
 */
public record Method<Q, R>(String name, Class<Q> requestType, Class<R> resultType) {
}
