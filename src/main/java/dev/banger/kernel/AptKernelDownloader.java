package dev.banger.kernel;

import dev.banger.host.Executables;
import dev.banger.host.Command;
import dev.banger.host.CommandFailedException;
import dev.banger.host.CommandResult;
import dev.banger.host.CommandRunner;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Downloads a kernel package with the host's apt: {@code apt-cache depends <meta>} names the concrete
 * {@code linux-image-<release>} package and {@code apt-cache show} its version, before anything is downloaded (so
 * a pull of a kernel banger already has costs no download); {@code apt-get download} fetches the .deb into a
 * directory. Nothing is installed and /boot is never touched.
 */
public final class AptKernelDownloader implements KernelDownloader {

    /** Debian's meta-package that always depends on the current cloud kernel. */
    public static final String DEBIAN_CLOUD = "linux-image-cloud-amd64";

    private static final Pattern DEPENDS = Pattern.compile("^\\s*Depends:\\s*(linux-image-\\S+)\\s*$",
            Pattern.MULTILINE);
    private static final Pattern SIZE = Pattern.compile("^Size:\\s*(\\d+)\\s*$", Pattern.MULTILINE);
    private static final Pattern VERSION = Pattern.compile("^Version:\\s*(\\S+)\\s*$", Pattern.MULTILINE);
    private static final Duration DOWNLOAD_TIMEOUT = Duration.ofMinutes(15);

    private final CommandRunner runner;
    private final Executables executables;

    public AptKernelDownloader(CommandRunner runner) {
        this(runner, Executables.fromEnvironment());
    }

    AptKernelDownloader(CommandRunner runner, Executables executables) {
        this.runner = runner;
        this.executables = executables;
    }

    /** The concrete package {@code metaPackage} currently depends on, e.g. linux-image-6.1.0-56-cloud-amd64. */
    public String resolve(String metaPackage) {
        requireApt();
        CommandResult result = runner.run(Command.of("apt-cache", "depends", metaPackage).allowingFailure());
        Matcher m = DEPENDS.matcher(result.stdoutText());
        if (!result.succeeded() || !m.find()) {
            throw new KernelFetchException("apt does not know the package " + metaPackage
                    + " (run `apt-get update`, or on a host without Debian's archive use "
                    + "`banger kernel import <vmlinuz|linux-image.deb>`)");
        }
        return m.group(1);
    }

    /** The package {@code metaPackage} currently depends on, with the version and size apt would download. */
    @Override
    public KernelPackage newest(String metaPackage, ProgressListener listener) {
        listener.progress(KernelProgress.of(KernelProgress.Stage.RESOLVE, "resolving " + metaPackage));
        String concrete = resolve(metaPackage);
        CommandResult show = runner.run(Command.of("apt-cache", "show", "--no-all-versions", concrete)
                .allowingFailure());
        Matcher size = SIZE.matcher(show.stdoutText());
        Matcher version = VERSION.matcher(show.stdoutText());
        return new KernelPackage(concrete, show.succeeded() && version.find() ? version.group(1) : null,
                show.succeeded() && size.find() ? Long.parseLong(size.group(1)) : -1);
    }

    /**
     * Downloads the package that {@code metaPackage} depends on into {@code dir} and returns the .deb.
     *
     * @param dir an existing directory; the .deb is left there for the caller to import and delete
     */
    public Path download(String metaPackage, Path dir, ProgressListener listener) {
        return download(newest(metaPackage, listener), dir, listener);
    }

    /**
     * Downloads {@code pkg} into {@code dir} and returns the .deb.
     *
     * @param dir an existing directory; the .deb is left there for the caller to import and delete
     */
    @Override
    public Path download(KernelPackage pkg, Path dir, ProgressListener listener) {
        String concrete = pkg.name();
        long total = pkg.size();
        // name=version pins what the caller decided on, even if apt's lists change in between.
        String target = pkg.version() == null ? concrete : concrete + "=" + pkg.version();
        listener.progress(new KernelProgress(KernelProgress.Stage.DOWNLOAD, "downloading " + concrete, 0, total));
        Command command = Command.of("apt-get", "download", "-q", target).withCwd(dir)
                .withTimeout(DOWNLOAD_TIMEOUT);
        CompletableFuture<CommandResult> download = CompletableFuture.supplyAsync(() -> runner.run(command));
        try {
            while (true) {
                try {
                    download.get(250, TimeUnit.MILLISECONDS);
                    break;
                } catch (TimeoutException e) {
                    listener.progress(new KernelProgress(KernelProgress.Stage.DOWNLOAD, "downloading " + concrete,
                            bytesIn(dir), total));
                }
            }
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof CommandFailedException) {
                throw new KernelFetchException("cannot download " + concrete + ": " + cause.getMessage()
                        + " (check the apt sources, or use `banger kernel import`)", cause);
            }
            throw new KernelFetchException("cannot download " + concrete + ": " + cause, cause);
        } catch (InterruptedException e) {
            download.cancel(true);
            Thread.currentThread().interrupt();
            throw new KernelFetchException("interrupted while downloading " + concrete, e);
        }
        Path deb = findDeb(dir, concrete);
        long size = size(deb);
        listener.progress(new KernelProgress(KernelProgress.Stage.DOWNLOAD, "downloaded " + deb.getFileName(),
                size, size));
        return deb;
    }

    private void requireApt() {
        for (String tool : List.of("apt-cache", "apt-get")) {
            if (!executables.has(tool)) {
                throw new KernelFetchException(tool + " not found: `kernel pull` needs a Debian or Ubuntu host; "
                        + "elsewhere use `banger kernel import <vmlinux|bzImage> [--modules DIR]` or "
                        + "`banger kernel import <linux-image.deb>`");
            }
        }
    }

    private static Path findDeb(Path dir, String pkg) {
        List<Path> debs = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, pkg + "_*.deb")) {
            files.forEach(debs::add);
        } catch (IOException e) {
            throw new KernelFetchException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        if (debs.size() != 1) {
            throw new KernelFetchException("apt-get download " + pkg + " left " + debs.size() + " matching .deb files in "
                    + dir + ", expected one");
        }
        return debs.get(0);
    }

    private static long bytesIn(Path dir) {
        long sum = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                sum += size(f);
            }
        } catch (IOException e) {
            return -1;
        }
        return sum;
    }

    private static long size(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }
}
