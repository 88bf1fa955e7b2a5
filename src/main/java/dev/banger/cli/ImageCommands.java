package dev.banger.cli;

import dev.banger.api.Api;
import dev.banger.api.Empty;
import dev.banger.api.ImageDefaultRequest;
import dev.banger.api.ImageList;
import dev.banger.api.ImagePromoteRequest;
import dev.banger.api.ImagePullRequest;
import dev.banger.api.ImageRef;
import dev.banger.api.ImageRegisterRequest;
import dev.banger.api.ImageView;
import dev.banger.model.Sizes;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "image", description = "Root filesystem images.")
final class ImageCommands extends HelpOption {

    static final CommandGroup GROUP = CommandGroup.of(ImageCommands.class, Pull.class, Register.class,
            Promote.class, ListImages.class, Show.class, Delete.class, MakeDefault.class);

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
}
