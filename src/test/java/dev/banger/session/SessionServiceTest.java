package dev.banger.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.banger.api.BangerException;
import dev.banger.api.ErrorCode;
import dev.banger.api.SessionStartRequest;
import dev.banger.api.SessionView;
import dev.banger.vm.FakeHost;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sessions through the daemon's service, against a fake VM whose agent is the real banger-init. */
class SessionServiceTest {

    @TempDir
    Path tmp;

    private FakeHost host;
    private SessionService sessions;

    @BeforeEach
    void setUp() throws Exception {
        host = new FakeHost(tmp);
        sessions = new SessionService(host.running);
        host.create("dev");
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        host.close();
    }

    @Test
    void startingOverAnEndedSessionIsRefusedUnlessReplaced() throws Exception {
        sessions.start(start("build", false, "echo first output"));
        awaitEnded("build");

        assertThatThrownBy(() -> sessions.start(start("build", false, "echo second")))
                .isInstanceOfSatisfying(BangerException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
                    assertThat(e.getMessage()).contains("has ended and keeps its output")
                            .contains("banger session rm dev build").contains("--replace");
                });

        SessionView replaced = sessions.start(start("build", true, "sleep 5"));
        assertThat(replaced.state()).isEqualTo("running");
    }

    @Test
    void aRunningSessionOfTheSameNameIsStillRefusedAsRunning() {
        sessions.start(start("job", false, "sleep 5"));

        assertThatThrownBy(() -> sessions.start(start("job", true, "true")))
                .isInstanceOfSatisfying(BangerException.class, e -> assertThat(e.code())
                        .isEqualTo(ErrorCode.ALREADY_EXISTS));
    }

    private void awaitEnded(String name) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            if (sessions.list("dev").sessions().stream().anyMatch(s -> s.name().equals(name)
                    && !s.state().equals("running"))) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("session " + name + " did not end");
    }

    private static SessionStartRequest start(String name, boolean replace, String script) {
        return new SessionStartRequest("dev", name, List.of("sh", "-c", script), null, "/", false, 0, 0, replace);
    }
}
