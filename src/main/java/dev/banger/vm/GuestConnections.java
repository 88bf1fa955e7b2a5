package dev.banger.vm;

import dev.banger.api.BangerException;
import dev.banger.guest.AgentClient;
import dev.banger.guest.AgentTransport;
import dev.banger.model.Vm;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent connection per running VM, shared by every exec: QEMU's chardev socket takes one client at a time,
 * and the agent multiplexes channels over it. Reconnects when a connection has died (daemon restart, guest
 * reboot).
 */
final class GuestConnections {

    private static final Logger log = LoggerFactory.getLogger(GuestConnections.class);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final ConcurrentHashMap<String, AgentClient> clients = new ConcurrentHashMap<>();
    /** Told of every new connection (a boot's first answer, a reconnect), outside the map's lock. */
    private volatile BiConsumer<Vm, AgentClient> onConnect = (vm, client) -> { };

    void onConnect(BiConsumer<Vm, AgentClient> listener) {
        this.onConnect = listener;
    }

    /** Records the client a boot's readiness wait produced. */
    void adopt(Vm vm, AgentClient client) {
        AgentClient old = clients.put(vm.id(), client);
        if (old != null && old != client) {
            old.close();
        }
        onConnect.accept(vm, client);
    }

    /** The VM's connected client, connecting through {@code transport} when there is none or it has died. */
    AgentClient client(Vm vm, AgentTransport transport) {
        boolean[] fresh = {false};
        AgentClient client = clients.compute(vm.id(), (id, existing) -> {
            if (existing != null && existing.isConnected()) {
                return existing;
            }
            if (existing != null) {
                existing.close();
            }
            try {
                fresh[0] = true;
                return AgentClient.connect(transport, CONNECT_TIMEOUT);
            } catch (IOException e) {
                throw BangerException.unavailable("cannot reach the guest agent of VM '" + vm.name() + "': "
                        + e.getMessage() + " (see: banger vm logs " + vm.name() + ")");
            }
        });
        if (fresh[0]) {
            onConnect.accept(vm, client);
        }
        return client;
    }

    void drop(Vm vm) {
        AgentClient client = clients.remove(vm.id());
        if (client != null) {
            client.close();
            log.debug("closed the agent connection of {}", vm.name());
        }
    }
}
