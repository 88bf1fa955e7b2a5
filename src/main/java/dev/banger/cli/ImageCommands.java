package dev.banger.cli;

import dev.banger.api.Api;
import dev.banger.api.Empty;
import dev.banger.api.Event;
import dev.banger.api.ImageDefaultRequest;
import dev.banger.api.ImageExportRequest;
import dev.banger.api.ImageExportResult;
import dev.banger.api.ImageImportRequest;
import dev.banger.api.ImageList;
import dev.banger.api.ImagePromoteRequest;
import dev.banger.api.ImagePullRequest;
import dev.banger.api.ImageRef;
import dev.banger.api.ImageRegisterRequest;
import dev.banger.api.ImageView;
import dev.banger.model.Sizes;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "image", description = "Root filesystem images.")
final class ImageCommands extends HelpOption {

    static final CommandGroup GROUP = CommandGroup.of(ImageCommands.class, Pull.class, Register.class,
            Promote.class, ListImages.class, Show.class, Delete.class, MakeDefault.class, Export.class,
            Import.class);

    @Command(name = "pull",
            description = "Pull an OCI image (registry reference, oci-layout:DIR[:tag] or docker-archive:FILE) into a bootable root disk.")
    static final class Pull extends Base {
        @Parameters(paramLabel = "REF",
                description = "Image reference: NAME[:TAG], REGISTRY/NAME[:TAG], oci-layout:DIR[:TAG] or docker-archive:FILE.")
        String reference;
        @Option(names = "--name", paramLabel = "NAME", description = "Image name (default: from the reference).")
        String name;
        @Option(names = "--insecure", description = "Allow plain HTTP to this registry.")
        boolean insecure;
        @Option(names = "--force", description = "Replace an existing image of that name.")
        boolean force;

        Pull(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            ProgressPrinter progress = new ProgressPrinter(context.err());
            ImageView image = context.call(Api.IMAGE_PULL, new ImagePullRequest(localSource(reference), name, insecure,
                    force, dockerConfig()), progress);
            progress.finish();
            context.out().println(image.name() + " " + image.digest());
            return BangerCli.EXIT_OK;
        }

        /** oci-layout: and docker-archive: paths are the user's; the daemon needs them absolute. */
        static String localSource(String reference) {
            for (String scheme : new String[] {"oci-layout:", "docker-archive:"}) {
                if (reference.startsWith(scheme)) {
                    String rest = reference.substring(scheme.length());
                    int colon = rest.indexOf(':');
                    String path = colon < 0 ? rest : rest.substring(0, colon);
                    String suffix = colon < 0 ? "" : rest.substring(colon);
                    return scheme + KernelCommands.absolute(path) + suffix;
                }
            }
            return reference;
        }

        /** The user's docker client config, for registry credentials ($DOCKER_CONFIG or ~/.docker). */
        static String dockerConfig() {
            String dir = System.getenv("DOCKER_CONFIG");
            java.nio.file.Path file = (dir != null && !dir.isBlank() ? java.nio.file.Path.of(dir)
                    : java.nio.file.Path.of(System.getProperty("user.home"), ".docker")).resolve("config.json");
            return java.nio.file.Files.isRegularFile(file) ? file.toAbsolutePath().toString() : null;
        }
    }

    @Command(name = "register", description = "Adopt an existing ext4 root filesystem file.")
    static final class Register extends Base {
        @Parameters(paramLabel = "NAME", description = "The image.")
        String name;
        @Option(names = "--rootfs", paramLabel = "PATH", required = true, description = "The ext4 file.")
        String rootfs;

        Register(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            ProgressPrinter progress = new ProgressPrinter(context.err());
            ImageView image = context.call(Api.IMAGE_REGISTER, new ImageRegisterRequest(name,
                    KernelCommands.absolute(rootfs)), progress);
            progress.finish();
            context.out().println(image.name() + " registered (" + Sizes.formatBytes(image.sizeBytes()) + ")");
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "promote", description = "Capture a stopped VM's root disk as a new image.")
    static final class Promote extends Base {
        @Parameters(paramLabel = "VM", description = "The VM whose root disk becomes the image (stopped).")
        String vm;
        @Option(names = "--name", paramLabel = "IMAGE", required = true, description = "Name of the new image.")
        String image;

        Promote(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            ImageView promoted = context.call(Api.IMAGE_PROMOTE, new ImagePromoteRequest(vm, image));
            context.out().println(promoted.name() + " promoted from " + vm + " ("
                    + Sizes.formatBytes(promoted.sizeBytes()) + ")");
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "list", aliases = "ls", description = "List images.")
    static final class ListImages extends ResultCommand {

        ListImages(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            ImageList list = context.call(Api.IMAGE_LIST, Empty.INSTANCE);
            print(list, l -> {
                Output.Table table = new Output.Table("NAME", "SIZE", "DEFAULT", "SOURCE", "CREATED", "USED BY");
                for (ImageView image : l.images()) {
                    table.row(image.name(), Sizes.formatBytes(image.sizeBytes()), image.isDefault() ? "*" : "", image.source(),
                            image.createdAt(), String.join(",", image.usedBy()));
                }
                table.print(context.out());
            });
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "show", description = "Show an image.")
    static final class Show extends ResultCommand {
        @Parameters(paramLabel = "NAME", description = "The image.")
        String name;

        Show(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            ImageView image = context.call(Api.IMAGE_SHOW, new ImageRef(name));
            print(image, i -> new Output.Fields().add("name", i.name()).add("default", i.isDefault())
                    .add("source", i.source())
                    .add("digest", i.digest()).add("rootfs", i.rootfsPath()).add("size", Sizes.formatBytes(i.sizeBytes()))
                    .add("created", i.createdAt()).add("used by", String.join(", ", i.usedBy()))
                    .print(context.out()));
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "delete", aliases = "rm", description = "Delete images (refused while a VM uses one).")
    static final class Delete extends Base {
        @Parameters(paramLabel = "NAME", arity = "1..*", description = "The images.")
        List<String> names;

        Delete(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            for (String name : names) {
                context.call(Api.IMAGE_DELETE, new ImageRef(name));
                context.out().println("deleted " + name);
            }
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "default", description = {"Show the default image, or make NAME the default.",
        "A VM created without --image boots the default: the first image (the one first use builds) until you "
            + "choose another. Takes effect at once."})
    static final class MakeDefault extends ResultCommand {
        @Parameters(paramLabel = "NAME", arity = "0..1", description = "The image.")
        String name;

        MakeDefault(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            ImageView image = context.call(Api.IMAGE_DEFAULT, new ImageDefaultRequest(name));
            print(image, i -> context.out().println(name == null ? i.name() : i.name() + " is the default image"));
            return BangerCli.EXIT_OK;
        }
    }

    @Command(name = "export", description = {"Write an image to a bundle file, to move it without a registry.",
        "The bundle is a zstd-compressed tar: the root disk and a manifest with the image's name, source, sizes "
            + "and sha256 digests; with --kernel also a kernel. Read it back with: banger image import FILE|URL."})
    static final class Export extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "The image.")
        String name;
        @Parameters(index = "1", paramLabel = "FILE", description = "The bundle to write (replaced if it exists).")
        String file;
        @Option(names = "--kernel", description = "Also bundle the default kernel (or --kernel-name's).")
        boolean withKernel;
        @Option(names = "--kernel-name", paramLabel = "KERNEL", description = "Bundle this kernel (implies --kernel).")
        String kernel;

        Export(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() throws IOException {
            Path target = Path.of(file).toAbsolutePath();
            if (Files.isDirectory(target)) {
                throw new IllegalArgumentException(file + " is a directory; name the bundle file to write");
            }
            if (!Files.isDirectory(target.getParent())) {
                throw new IllegalArgumentException("cannot write " + file + ": no directory " + target.getParent());
            }
            Path partial = Files.createTempFile(target.getParent(), "." + target.getFileName() + ".", ".partial");
            ProgressPrinter progress = new ProgressPrinter(context.err());
            boolean done = false;
            try {
                ImageExportResult result;
                try (OutputStream out = Files.newOutputStream(partial)) {
                    result = context.call(Api.IMAGE_EXPORT, new ImageExportRequest(name, withKernel
                            || kernel != null, kernel), event -> {
                                if (event instanceof Event.Output o) {
                                    try {
                                        out.write(o.data());
                                    } catch (IOException e) {
                                        throw new UncheckedIOException(e);
                                    }
                                } else {
                                    progress.accept(event);
                                }
                            });
                }
                progress.finish();
                if (Files.size(partial) != result.bytes()) {
                    throw new IllegalStateException("the bundle arrived incomplete (" + Files.size(partial) + " of "
                            + result.bytes() + " bytes); try again");
                }
                Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                done = true;
                context.out().println(target + ": image " + result.image() + (result.kernel() == null ? ""
                        : ", kernel " + result.kernel()) + " (" + Sizes.formatBytes(result.bytes()) + ")");
                return BangerCli.EXIT_OK;
            } finally {
                if (!done) {
                    Files.deleteIfExists(partial);
                }
            }
        }
    }

    @Command(name = "import", description = {"Register an image (and its kernel) from a bundle made by image export.",
        "Every file's size and sha256 digest is checked before anything is registered; a bundle that fails a check "
            + "leaves nothing behind."})
    static final class Import extends Base {
        @Parameters(paramLabel = "FILE|URL", description = "The bundle: a file, or an http(s) URL.")
        String source;
        @Option(names = "--name", paramLabel = "NAME", description = "Image name (default: the bundle's).")
        String name;
        @Option(names = "--insecure", description = "Allow plain HTTP to a host that is not loopback.")
        boolean insecure;

        Import(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            String bundle = source.startsWith("http://") || source.startsWith("https://") ? source
                    : KernelCommands.absolute(source);
            ProgressPrinter progress = new ProgressPrinter(context.err());
            ImageView image = context.call(Api.IMAGE_IMPORT, new ImageImportRequest(bundle, name, insecure), progress);
            progress.finish();
            context.out().println(image.name() + " imported (" + Sizes.formatBytes(image.sizeBytes()) + ")");
            return BangerCli.EXIT_OK;
        }
    }
}
