package dev.banger.vm;

import dev.banger.guest.AgentClient;
import dev.banger.guest.AgentError;
import dev.banger.guest.AgentException;
import dev.banger.guest.AgentOp;
import dev.banger.guest.ClockStep;
import dev.banger.guest.KeyAuthorization;
import dev.banger.model.Vm;
import dev.banger.ssh.GuestSsh;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps running guests in step with the host: the guest's wall clock follows the host's (timed {@code clock.adjust}
 * round trips, {@link GuestClockSync}, on every new agent connection, so right after a boot's first answer or a
 * restored guest's personalisation, and every period), and root's
 * authorized_keys holds banger's current user key ({@code ssh.authorize} on every new connection and whenever the
 * key's {@code .pub} has changed since). One scheduler thread serves every VM. Never throws: a guest that cannot
 * be kept in step is logged, not failed (an older agent answers {@code bad_request} to ops it lacks).
 */
final class GuestUpkeep implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(GuestUpkeep.class);

    /** Offsets below this are not worth a clock step. */
    static final Duration CLOCK_TOLERANCE = Duration.ofMillis(50);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);

    /** The key a connection was last made to trust. */
    private record Authorized(AgentClient client, String key) {
    }

    private final GuestSsh ssh;
    private final Clock clock;
    private final ConcurrentHashMap<String, Authorized> authorized = new ConcurrentHashMap<>();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "guest-upkeep");
        t.setDaemon(true);
        return t;
    });

    /** @param clock the host's wall clock, which guests follow */
    GuestUpkeep(GuestSsh ssh, Clock clock) {
        this.ssh = ssh;
        this.clock = clock;
    }

    /** Runs {@code pass} every {@code period}, on the one scheduler thread. */
    void every(Duration period, Runnable pass) {
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                authorized.values().removeIf(a -> !a.client().isConnected());
                pass.run();
            } catch (RuntimeException e) {
                log.warn("guest upkeep pass failed: {}", e.toString());
            }
        }, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A new connection to {@code vm}'s agent answered HELLO. */
    void connected(Vm vm, AgentClient client) {
        syncClock(vm, client);
        authorizeKey(vm, client);
    }

    /**
     * Brings the guest's clock to within {@link #CLOCK_TOLERANCE} of the host's, measured by timed round trips
     * ({@link GuestClockSync}); an agent without {@code clock.adjust} gets the one-way {@code clock.set}.
     */
    void syncClock(Vm vm, AgentClient client) {
        try {
            GuestClockSync.Outcome sync = GuestClockSync.run(
                    delta -> client.call(new AgentOp.ClockAdjust(delta), CALL_TIMEOUT), clock, CLOCK_TOLERANCE);
            if (!sync.stepped().isZero()) {
                log.info("VM {}: guest clock stepped by {} ms to the host's; now {} ms off, +/- {} ms ({} round "
                        + "trips)", vm.name(), sync.stepped().toMillis(), sync.offset().toMillis(),
                        sync.uncertainty().toMillis(), sync.rounds());
            } else {
                log.debug("VM {}: guest clock {} ms off the host's, +/- {} ms ({} round trips)", vm.name(),
                        sync.offset().toMillis(), sync.uncertainty().toMillis(), sync.rounds());
            }
        } catch (AgentException e) {
            if (e.code() == AgentError.BAD_REQUEST) {
                setClockOneWay(vm, client); // an agent from before clock.adjust
            } else {
                log.debug("VM {}: cannot set the guest clock: {}", vm.name(), e.getMessage());
            }
        } catch (IOException e) {
            log.debug("VM {}: cannot reach the agent to set the guest clock: {}", vm.name(), e.getMessage());
        }
    }

    /** clock.set: the host's time as of sending, so the guest ends behind by the request's transit. */
    private void setClockOneWay(Vm vm, AgentClient client) {
        try {
            ClockStep step = client.call(new AgentOp.ClockSet(clock.instant(), CLOCK_TOLERANCE), CALL_TIMEOUT);
            if (step.stepped() && Math.abs(step.offsetMs()) >= 1000) {
                log.info("VM {}: guest clock was {} ms off the host's; set", vm.name(), step.offsetMs());
            }
        } catch (IOException e) {
            log.debug("VM {}: cannot set the guest clock: {}", vm.name(), e.getMessage());
        }
    }

    /** Makes the guest trust banger's current key, unless this connection already did for the same key. */
    void authorizeKey(Vm vm, AgentClient client) {
        Optional<String> key = ssh.currentUserKey();
        if (key.isEmpty()) {
            return;
        }
        Authorized done = authorized.get(vm.id());
        if (done != null && done.client() == client && done.key().equals(key.get())) {
            return;
        }
        try {
            KeyAuthorization change = client.call(new AgentOp.SshAuthorize(key.get(), GuestSsh.AUTHORIZED_COMMENT),
                    CALL_TIMEOUT);
            authorized.put(vm.id(), new Authorized(client, key.get()));
            if (change.added() || change.removed() > 0) {
                log.info("VM {}: banger's SSH key added to authorized_keys ({} earlier key(s) of banger's removed)",
                        vm.name(), change.removed());
            }
        } catch (AgentException e) {
            // The agent's answer stands for this connection and key (an agent without the op, a .ssh that is a
            // symlink): asked again on the next connection or key, not at every use.
            authorized.put(vm.id(), new Authorized(client, key.get()));
            log.warn("VM {}: cannot put banger's SSH key into authorized_keys: {}", vm.name(), e.getMessage());
        } catch (IOException e) {
            log.warn("VM {}: cannot reach the agent to authorize banger's SSH key: {}", vm.name(), e.getMessage());
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
