package dev.banger.host.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.banger.json.Json;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Root-disk handles go into handles.json with the rest of a VM's handles, so they must survive the codec. */
class RootDiskHandlesTest {

    @Test
    void fullHandlesRoundTripThroughJson() {
        RootDiskHandles handles = new RootDiskHandles("dm-snapshot",
                new LoopDevice("/dev/loop0", Path.of("/var/lib/banger/images/debian/rootfs.ext4")),
                new LoopDevice("/dev/loop1", Path.of("/var/lib/banger/vms/0123456789ab/root.cow")),
                "banger-0123456789ab", Path.of("/dev/mapper/banger-0123456789ab"));

        String json = Json.write(handles);

        assertThat(json).isEqualTo("{\"strategy\":\"dm-snapshot\","
                + "\"baseLoop\":{\"device\":\"/dev/loop0\",\"backingFile\":\"/var/lib/banger/images/debian/rootfs.ext4\"},"
                + "\"cowLoop\":{\"device\":\"/dev/loop1\",\"backingFile\":\"/var/lib/banger/vms/0123456789ab/root.cow\"},"
                + "\"dmName\":\"banger-0123456789ab\",\"dmDevice\":\"/dev/mapper/banger-0123456789ab\"}");
        assertThat(Json.read(json, RootDiskHandles.class)).isEqualTo(handles);
    }

    @Test
    void halfBuiltAndEmptyHandlesRoundTripThroughJson() {
        RootDiskHandles halfBuilt = RootDiskHandles.none("dm-snapshot")
                .withBaseLoop(new LoopDevice("/dev/loop4", Path.of("/images/base.ext4")));

        assertThat(Json.read(Json.write(halfBuilt), RootDiskHandles.class)).isEqualTo(halfBuilt);
        assertThat(Json.write(RootDiskHandles.none("qcow2-overlay"))).isEqualTo("{\"strategy\":\"qcow2-overlay\"}");
        assertThat(Json.read("{\"strategy\":\"qcow2-overlay\"}", RootDiskHandles.class).isEmpty()).isTrue();
    }
}
