package dev.banger.guest;

import dev.banger.testkit.AgentProcess;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A real banger-init in agent mode on a temp Unix socket, and a client connected to it, for each test. */
abstract class AgentTestBase {

    @TempDir
    Path dir;

    AgentProcess agent;
    AgentClient client;

    @BeforeEach
    void startAgent() throws Exception {
        agent = AgentProcess.start(dir);
        client = agent.connect();
    }

    @AfterEach
    void stopAgent() throws Exception {
        if (client != null) {
            client.close();
        }
        if (agent != null) {
            agent.close();
        }
    }
}
