package dev.banger.api;

/** The request or result of an operation that carries no data. */
public record Empty() {
    public static final Empty INSTANCE = new Empty();
}
