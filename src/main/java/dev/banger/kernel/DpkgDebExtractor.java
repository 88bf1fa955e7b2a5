package dev.banger.kernel;

import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandRunner;
import java.nio.file.Path;
import java.time.Duration;

/** Extracts with the host's {@code dpkg-deb -x}, the tool that knows every compression Debian and Ubuntu use. */
final class DpkgDebExtractor implements DebExtractor {

    private final CommandRunner runner;

    DpkgDebExtractor(CommandRunner runner) {
        this.runner = runner;
    }

    @Override
    public void extract(Path deb, Path dest) {
        try {
            runner.run(Command.of("dpkg-deb", "-x", deb.toString(), dest.toString())
                    .withTimeout(Duration.ofMinutes(5)));
        } catch (CommandFailedException e) {
            throw new KernelException("cannot extract " + deb + " (is it a Debian package?): " + e.getMessage(), e);
        }
    }

    @Override
    public String name() {
        return "dpkg-deb";
    }
}
