package dev.banger.api;

import java.util.List;
import java.util.Map;

/**
 * {@code vm.exec}: run a command in a running VM. Output arrives as {@link Event.Output} events; with
 * {@code stdin}, the client sends {@code Input} frames (data, end of input, signals, terminal size).
 *
 * @param env variables added to the guest's base environment (and the image's), or null
 * @param cwd working directory in the guest, or null for the image's (else /root)
 * @param tty run on a terminal of {@code rows} x {@code cols}
 * @param stdin forward the client's input; without it the command's stdin is /dev/null
 */
public record VmExecRequest(String name, List<String> argv, Map<String, String> env, String cwd, boolean tty,
                            int rows, int cols, boolean stdin) {
}
