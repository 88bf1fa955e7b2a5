package dev.banger.image.registry;

import dev.banger.image.ImageConfig;

/** Reads an image config blob (OCI image config / Docker container image v1). */
public final class ImageConfigs {

    private ImageConfigs() {
    }

    /**
     * Parses {@code body} and checks the image is for {@code platform} when the config says.
     *
     * @throws ManifestException when the config is malformed or for another platform
     */
    public static ImageConfig parse(byte[] body, Platform platform, String what) {
        JsonFields json = JsonFields.parse(body, what);
        String os = json.string("os");
        String arch = json.string("architecture");
        if ((os != null && !os.equals(platform.os())) || (arch != null && !arch.equals(platform.architecture()))) {
            throw new ManifestException(what + " is an image for " + os + "/" + arch + "; banger guests are "
                    + platform);
        }
        JsonFields config = json.object("config");
        if (config == null) {
            return ImageConfig.EMPTY;
        }
        return new ImageConfig(config.strings("Env"), config.string("WorkingDir"), config.strings("Entrypoint"),
                config.strings("Cmd"));
    }
}
