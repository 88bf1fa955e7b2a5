package dev.banger.guest;

import dev.banger.testkit.AgentProcess;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The ports op against the real banger-init in agent mode: on the host, /proc/net is the host's (or the test's). */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AgentPortsTest {

    @TempDir
    Path dir;

    @Test
    void listsListenersAndBoundUdpSocketsWithTheirProcess() throws Exception {
        long self = ProcessHandle.current().pid();
        try (AgentProcess agent = AgentProcess.start(dir);
             AgentClient client = agent.connect();
             ServerSocket tcp = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             DatagramSocket udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             ServerSocket connectedTo = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client2 = new Socket(InetAddress.getLoopbackAddress(), connectedTo.getLocalPort())) {

            List<ListeningPort> ports = client.ports();

            // Java's sockets are dual-stack: the kernel lists them as IPv6 with an IPv4-mapped address.
            assertThat(ports).anySatisfy(p -> assertThat(p).isIn(
                    new ListeningPort("tcp", "127.0.0.1", tcp.getLocalPort(), (int) self, "java"),
                    new ListeningPort("tcp", "::ffff:127.0.0.1", tcp.getLocalPort(), (int) self, "java")));
            assertThat(ports).anySatisfy(p -> assertThat(p).isIn(
                    new ListeningPort("udp", "127.0.0.1", udp.getLocalPort(), (int) self, "java"),
                    new ListeningPort("udp", "::ffff:127.0.0.1", udp.getLocalPort(), (int) self, "java")));
            assertThat(ports).as("a connected client socket is not listening")
                    .noneMatch(p -> p.port() == client2.getLocalPort());
            assertThat(ports).extracting(ListeningPort::port).isSorted();
        }
    }
}
