package dev.banger.api;

/**
 * How a guest command ended.
 *
 * @param exitCode its exit code, or 128 + the signal that killed it
 * @param signal the signal that killed it, or null
 */
public record ExecResult(int exitCode, Integer signal) {
}
