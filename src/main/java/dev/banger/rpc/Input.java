package dev.banger.rpc;

/**
 * Client → daemon frames after the request, for calls that take a stream (exec stdin, signals, window size).
 * Exactly one field is set.
 *
 * @param stdin bytes for the command's standard input
 * @param stdinEof true to close the command's standard input
 * @param signal a signal number to deliver to the command
 * @param resize terminal size as [rows, cols]
 */
public record Input(byte[] stdin, Boolean stdinEof, Integer signal, int[] resize) {

    public static Input data(byte[] bytes) {
        return new Input(bytes, null, null, null);
    }

    public static Input eof() {
        return new Input(null, Boolean.TRUE, null, null);
    }

    public static Input signal(int number) {
        return new Input(null, null, number, null);
    }

    public static Input resize(int rows, int cols) {
        return new Input(null, null, null, new int[] {rows, cols});
    }
}
