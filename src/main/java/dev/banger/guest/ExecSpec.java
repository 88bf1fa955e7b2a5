package dev.banger.guest;

import java.util.List;
import java.util.Map;

/**
 * A program to run in the guest.
 *
 * @param argv program and arguments (the program is looked up on the guest's PATH); never empty
 * @param env variables added to the guest's base environment (PATH, HOME=/root, USER, LOGNAME, SHELL)
 * @param cwd working directory, or null for /root (or / when /root is absent)
 * @param tty run on a new PTY (output then arrives on stdout only)
 * @param rows PTY rows
 * @param cols PTY columns
 * @param stdin when false the program's stdin is /dev/null
 */
public record ExecSpec(List<String> argv, Map<String, String> env, String cwd, boolean tty, int rows, int cols,
                       boolean stdin) {

    public ExecSpec {
        argv = List.copyOf(argv);
        if (argv.isEmpty() || argv.get(0).isEmpty()) {
            throw new IllegalArgumentException("argv must name a program");
        }
        env = Map.copyOf(env);
        if (rows < 0 || rows > 0xFFFF || cols < 0 || cols > 0xFFFF) {
            throw new IllegalArgumentException("terminal size out of range: " + rows + "x" + cols);
        }
    }

    public static ExecSpec of(String... argv) {
        return of(List.of(argv));
    }

    public static ExecSpec of(List<String> argv) {
        return new ExecSpec(argv, Map.of(), null, false, 24, 80, true);
    }

    public ExecSpec withEnv(Map<String, String> variables) {
        return new ExecSpec(argv, variables, cwd, tty, rows, cols, stdin);
    }

    /** @param dir working directory in the guest, or null for the default */
    public ExecSpec withCwd(String dir) {
        return new ExecSpec(argv, env, dir, tty, rows, cols, stdin);
    }

    public ExecSpec withTty(int terminalRows, int terminalCols) {
        return new ExecSpec(argv, env, cwd, true, terminalRows, terminalCols, stdin);
    }

    public ExecSpec withoutStdin() {
        return new ExecSpec(argv, env, cwd, tty, rows, cols, false);
    }

    @Override
    public String toString() {
        return "exec " + String.join(" ", argv) + (tty ? " (tty)" : "") + (cwd == null ? "" : " in " + cwd)
                + (env.isEmpty() ? "" : " env " + env.keySet()) + (stdin ? "" : " <no stdin>");
    }
}
