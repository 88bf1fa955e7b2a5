package dev.banger.guest;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FrameReaderTest {

    private static byte[] frame(int type, int channel, String payload) {
        byte[] body = payload.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(FrameType.HEADER_LENGTH + body.length)
                .put(FrameType.MAGIC0).put(FrameType.MAGIC1).put((byte) type).put((byte) 0)
                .putInt(channel).putInt(body.length).put(body).array();
    }

    private static FrameReader reader(byte[]... parts) throws Exception {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            all.write(p);
        }
        return new FrameReader(Channels.newChannel(new ByteArrayInputStream(all.toByteArray())));
    }

    @Test
    void read_skipsBytesBeforeTheMagic() throws Exception {
        byte[] garbage = {0x01, (byte) 0xB4, 0x00, (byte) 0xB4};
        FrameReader in = reader(garbage, frame(FrameType.HELLO, 0, "{\"protocol\":1}"));

        Frame f = in.read();

        assertThat(f.type()).isEqualTo(FrameType.HELLO);
        assertThat(f.text()).isEqualTo("{\"protocol\":1}");
        assertThat(in.skippedBytes()).isEqualTo(garbage.length);
        assertThat(in.read()).isNull();
    }

    @Test
    void read_returnsFramesInOrderWithTheirChannels() throws Exception {
        FrameReader in = reader(frame(FrameType.STDOUT, 7, "a"), frame(FrameType.RESULT, 7, "{}"));

        assertThat(in.read()).extracting(Frame::type, Frame::channel).containsExactly(FrameType.STDOUT, 7);
        assertThat(in.read()).extracting(Frame::type, Frame::channel).containsExactly(FrameType.RESULT, 7);
    }

    @Test
    void read_failsOnAStreamCutInsideAFrame() throws Exception {
        byte[] whole = frame(FrameType.STDOUT, 1, "hello");
        FrameReader in = reader(java.util.Arrays.copyOf(whole, whole.length - 2));

        assertThatThrownBy(in::read).isInstanceOf(EOFException.class).hasMessageContaining("STDOUT");
    }

    @Test
    void read_rejectsAFrameOverTheLimit() throws Exception {
        byte[] header = {(byte) 0xB4, 0x6E, 0x11, 0, 0, 0, 0, 1, 0, 0x10, 0, 1};

        assertThatThrownBy(() -> reader(header).read())
                .isInstanceOf(AgentException.class)
                .hasMessageContaining("over the protocol's limit");
    }
}
