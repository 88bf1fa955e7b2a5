package dev.banger.api;

import java.util.List;
import java.util.Map;

/**
 * {@code session.start}: run a command in a VM as a named session that outlives the client.
 *
 * @param vm the VM
 * @param session the session's name (a DNS label), or null for one made from the command
 * @param env variables added to the guest's base environment (and the image's), or null
 * @param cwd working directory in the guest, or null for the image's (else /root)
 * @param tty run on a terminal of {@code rows} x {@code cols} (0: 24 x 80)
 * @param replace start even when an ended session of that name is kept, dropping its output; without it that is
 *     refused, so output nobody has read is never lost silently
 */
public record SessionStartRequest(String vm, String session, List<String> argv, Map<String, String> env, String cwd,
                                  boolean tty, int rows, int cols, boolean replace) {
}
