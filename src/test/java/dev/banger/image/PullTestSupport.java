package dev.banger.image;

import dev.banger.host.Executables;
import dev.banger.image.registry.ContentStore;
import dev.banger.image.registry.ImageSources;
import dev.banger.testkit.TestAssets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/** A puller over a fresh content store and work dir in {@code root}, and a listener that records events. */
final class PullTestSupport {

    static final HttpClient HTTP = ImageSources.newHttpClient();
    /** Small headroom keeps mkfs quick; pulls in tests need no free space. */
    static final long HEADROOM = 8L << 20;

    final Path root;
    final ContentStore store;
    final Path work;
    final ImagePuller puller;

    PullTestSupport(Path root) {
        this.root = root;
        this.store = new ContentStore(root.resolve("store"));
        this.work = root.resolve("work");
        this.puller = new ImagePuller(store, work, TestAssets.runner(), Executables.fromEnvironment(), HTTP);
    }

    PullOptions options(String name) {
        return PullOptions.to(root.resolve(name + ".ext4")).withHeadroom(HEADROOM)
                .withDockerConfig(root.resolve("no-docker-config.json"));
    }

    /** Records layer events. */
    static final class Recorder implements PullListener {
        final List<LayerProgress> layers = new CopyOnWriteArrayList<>();
        final List<String> steps = new CopyOnWriteArrayList<>();

        @Override
        public void step(String description) {
            steps.add(description);
        }

        @Override
        public void layer(LayerProgress progress) {
            layers.add(progress);
        }

        PullListener.State finalState(String digest) {
            return layers.stream().filter(p -> p.digest().equals(digest) && p.state() != State.FETCHING)
                    .map(LayerProgress::state).findFirst().orElse(null);
        }

        long bytesFetched(String digest) {
            return layers.stream().filter(p -> p.digest().equals(digest) && p.state() == State.FETCHING)
                    .mapToLong(LayerProgress::bytesDone).max().orElse(0);
        }
    }

    /** Every file under {@code dir} (recursively), relative; empty when dir is absent. */
    static List<String> filesUnder(Path dir) {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !Files.isDirectory(p)).map(p -> dir.relativize(p).toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
