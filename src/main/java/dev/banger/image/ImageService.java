package dev.banger.image;

import dev.banger.api.BangerException;
import dev.banger.api.ImageList;
import dev.banger.api.ImageView;
import dev.banger.model.Image;
import dev.banger.store.ImageStore;
import dev.banger.store.VmStore;

/** Images: the root filesystems VMs boot from. */
public final class ImageService {

    private final ImageStore images;
    private final VmStore vms;

    public ImageService(ImageStore images, VmStore vms) {
        this.images = images;
        this.vms = vms;
    }

    public ImageList list() {
        return new ImageList(images.list().stream().map(this::view).toList());
    }

    public ImageView show(String name) {
        return view(images.findByName(name).orElseThrow(() ->
                BangerException.notFound("no such image: " + name + "; see: banger image list")));
    }

    private ImageView view(Image image) {
        return new ImageView(image.name(), image.source(), image.digest(), image.rootfsPath().toString(),
                image.sizeBytes(), image.createdAt().toString(), vms.namesUsingImage(image.name()));
    }
}
