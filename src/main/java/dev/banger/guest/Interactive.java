package dev.banger.guest;

import java.io.IOException;
import java.io.OutputStream;

/** A guest process a client types into: an exec, or a session it is attached to. */
public interface Interactive {

    /** The process's standard input (a terminal's input with a PTY); closing it sends end of input. */
    OutputStream stdin();

    /** Delivers a Linux signal to the process's group. */
    void signal(int signal) throws IOException;

    /** Sets the terminal size (PTY only; otherwise ignored). */
    void resize(int rows, int cols) throws IOException;

    /** True once the channel has ended. */
    boolean isFinished();
}
