package dev.banger.image.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ImageReferenceTest {

    static final String HEX = "a".repeat(64);

    @Test
    void parse_bareName_isDockerHubLibraryLatest() {
        ImageReference r = ImageReference.parse("debian");
        assertThat(r.toString()).isEqualTo("docker.io/library/debian:latest");
        assertThat(r.apiHost()).isEqualTo("registry-1.docker.io");
    }

    @Test
    void parse_userRepoWithTag_staysOnDockerHub() {
        assertThat(ImageReference.parse("someone/tool:1.2").toString()).isEqualTo("docker.io/someone/tool:1.2");
        assertThat(ImageReference.parse("index.docker.io/library/debian:12").registry()).isEqualTo("docker.io");
    }

    @Test
    void parse_hostPortRepoTag() {
        ImageReference r = ImageReference.parse("127.0.0.1:5000/team/app:v1");
        assertThat(r.registry()).isEqualTo("127.0.0.1:5000");
        assertThat(r.repository()).isEqualTo("team/app");
        assertThat(r.tag()).isEqualTo("v1");
        assertThat(r.isLoopback()).isTrue();
        assertThat(ImageReference.parse("localhost/app").registry()).isEqualTo("localhost");
        assertThat(ImageReference.parse("ghcr.io/o/r").isLoopback()).isFalse();
    }

    @Test
    void parse_digest_isWhatIsFetched() {
        ImageReference r = ImageReference.parse("debian@sha256:" + HEX);
        assertThat(r.tag()).isNull();
        assertThat(r.manifestReference()).isEqualTo("sha256:" + HEX);
        ImageReference both = ImageReference.parse("ghcr.io/o/r:1@sha256:" + HEX);
        assertThat(both.tag()).isEqualTo("1");
        assertThat(both.manifestReference()).isEqualTo("sha256:" + HEX);
    }

    @Test
    void parse_rejectsMalformedReferences() {
        assertThatThrownBy(() -> ImageReference.parse("Debian")).hasMessageContaining("repository name");
        assertThatThrownBy(() -> ImageReference.parse("debian:bad tag")).hasMessageContaining("tag");
        assertThatThrownBy(() -> ImageReference.parse("debian@sha256:abc")).hasMessageContaining("digest");
        assertThatThrownBy(() -> ImageReference.parse("debian@md5:" + HEX)).hasMessageContaining("md5");
        assertThatThrownBy(() -> ImageReference.parse("")).hasMessageContaining("empty");
    }
}
