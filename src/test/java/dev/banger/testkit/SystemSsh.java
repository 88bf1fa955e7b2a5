package dev.banger.testkit;

import dev.banger.testkit.BangerHome.Result;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The system's OpenSSH client, as a user runs it with a config file (ssh-config's), in the test's namespace. */
public final class SystemSsh {

    static final long TIMEOUT_SECONDS = 90;

    private SystemSsh() {
    }

    /**
     * Runs {@code ssh -F CONFIG ARGS...} with no input; output goes through files in {@code dir}.
     *
     * @throws AssertionError when it runs longer than 90 s (it is killed)
     */
    public static Result run(Path dir, Path config, String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("ssh", "-F", config.toString()));
        argv.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "ssh", ".out");
        Path err = Files.createTempFile(dir, "ssh", ".err");
        Process p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("ssh " + String.join(" ", args) + " did not finish within " + TIMEOUT_SECONDS
                    + "s: " + Files.readString(err));
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }
}
