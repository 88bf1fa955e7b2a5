package dev.banger.cli;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * The user's terminal, driven through stty on /dev/tty (Java has no termios): size, and raw mode for
 * interactive sessions, restored on close.
 */
final class Terminal implements AutoCloseable {

    private final String saved;

    private Terminal(String saved) {
        this.saved = saved;
    }

    /** True when both stdin and stdout are terminals. */
    static boolean interactive() {
        return System.console() != null;
    }

    /** True when stdin is a terminal (whatever stdout is). */
    static boolean stdinIsTerminal() {
        try {
            String target = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/0")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** rows and cols, when /dev/tty answers. */
    static Optional<int[]> size() {
        return stty(List.of("size")).map(String::trim).filter(s -> s.matches("\\d+ \\d+")).map(s -> {
            String[] parts = s.split(" ");
            return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
        });
    }

    /** Puts the terminal in raw mode (no echo, no line editing, no signals from ^C); close restores it. */
    static Optional<Terminal> raw() {
        Optional<String> saved = stty(List.of("-g"));
        if (saved.isEmpty() || stty(List.of("raw", "-echo")).isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Terminal(saved.get().trim()));
    }

    @Override
    public void close() {
        stty(List.of(saved));
    }

    private static Optional<String> stty(List<String> args) {
        try {
            List<String> argv = new java.util.ArrayList<>();
            argv.add("stty");
            argv.addAll(args);
            Process p = new ProcessBuilder(argv).redirectInput(new File("/dev/tty"))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor() == 0 ? Optional.of(out) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
