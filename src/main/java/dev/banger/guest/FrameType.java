package dev.banger.guest;

/** Frame types and limits of the agent protocol (docs/agent-protocol.md). */
final class FrameType {

    static final int HELLO = 0x01;
    static final int OPEN = 0x02;
    static final int STDIN = 0x10;
    static final int STDOUT = 0x11;
    static final int STDERR = 0x12;
    static final int EOF = 0x13;
    static final int SIGNAL = 0x20;
    static final int RESIZE = 0x21;
    static final int WINDOW = 0x22;
    static final int RESULT = 0x30;
    static final int ERROR = 0x31;
    static final int CLOSE = 0x32;
    /** Guest→host, the first frame of a file copy asked to go over TCP: JSON {@code {"tcp_port":N[,"why":"..."]}}. */
    static final int TRANSPORT = 0x33;

    static final int PROTOCOL_VERSION = 1;
    static final int HEADER_LENGTH = 12;
    static final byte MAGIC0 = (byte) 0xB4;
    static final byte MAGIC1 = (byte) 0x6E;
    static final int MAX_PAYLOAD = 1 << 20;
    static final int MAX_DATA_PAYLOAD = 65536;
    static final int INITIAL_WINDOW = 262144;
    /** The window of file.read (output) and file.write (stdin) channels: each side grants the rest at OPEN. */
    static final int FILE_COPY_WINDOW = 2 << 20;

    static final int STREAM_STDIN = 0;
    static final int STREAM_STDOUT = 1;
    static final int STREAM_STDERR = 2;

    private FrameType() {
    }

    static String name(int type) {
        return switch (type) {
            case HELLO -> "HELLO";
            case OPEN -> "OPEN";
            case STDIN -> "STDIN";
            case STDOUT -> "STDOUT";
            case STDERR -> "STDERR";
            case EOF -> "EOF";
            case SIGNAL -> "SIGNAL";
            case RESIZE -> "RESIZE";
            case WINDOW -> "WINDOW";
            case RESULT -> "RESULT";
            case ERROR -> "ERROR";
            case CLOSE -> "CLOSE";
            case TRANSPORT -> "TRANSPORT";
            default -> String.format("0x%02x", type);
        };
    }
}
