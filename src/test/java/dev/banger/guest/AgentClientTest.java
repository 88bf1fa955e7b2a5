package dev.banger.guest;


import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** AgentClient against the real banger-init in agent mode on a temp Unix socket. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class AgentClientTest extends AgentTestBase {

    record Run(ExitStatus status, String stdout, String stderr) {
    }

    private Run run(ExecSpec spec) throws Exception {
        ExecProcess p = client.exec(spec);
        CompletableFuture<byte[]> err = readAsync(p.stderr());
        String out = new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8);
        ExitStatus status = p.waitFor(Duration.ofSeconds(10));
        return new Run(status, out, new String(err.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8));
    }

    private static CompletableFuture<byte[]> readAsync(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Test
    void ping_answersWithProtocolVersionAndHostname() throws Exception {
        AgentInfo info = client.ping();

        assertThat(info.protocol()).isEqualTo(1);
        assertThat(info.version()).isEqualTo("0.1.0");
        assertThat(info.uptimeMs()).isPositive();
        assertThat(info.hostname()).isNotEmpty();
    }

    @Test
    void exec_returnsExitCodes() throws Exception {
        assertThat(run(ExecSpec.of("true")).status()).isEqualTo(ExitStatus.exited(0));
        assertThat(run(ExecSpec.of("sh", "-c", "exit 7")).status()).isEqualTo(ExitStatus.exited(7));
    }

    @Test
    void exec_keepsStdoutAndStderrApart() throws Exception {
        Run r = run(ExecSpec.of("sh", "-c", "echo out1; echo err1 >&2; echo out2; echo err2 >&2"));

        assertThat(r.stdout()).isEqualTo("out1\nout2\n");
        assertThat(r.stderr()).isEqualTo("err1\nerr2\n");
        assertThat(r.status().succeeded()).isTrue();
    }

    @Test
    void exec_pipesSeveralMegabytesThroughCatWithFlowControlBothWays() throws Exception {
        byte[] input = new byte[8 << 20];
        new Random(1).nextBytes(input);
        ExecProcess p = client.exec(ExecSpec.of("cat"));
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (OutputStream in = p.stdin()) {
                for (int off = 0; off < input.length; off += 100_000) {
                    in.write(input, off, Math.min(100_000, input.length - off));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });

        byte[] output = p.stdout().readAllBytes();
        writer.get(10, TimeUnit.SECONDS);

        assertThat(p.waitFor(Duration.ofSeconds(5))).isEqualTo(ExitStatus.exited(0));
        assertThat(output.length).isEqualTo(input.length);
        assertThat(MessageDigest.getInstance("SHA-256").digest(output))
                .as("cat returned exactly what went in")
                .isEqualTo(MessageDigest.getInstance("SHA-256").digest(input));
        assertThat(p.maxBufferedBytes()).isLessThanOrEqualTo(FrameType.INITIAL_WINDOW);
    }

    @Test
    void exec_countsStdinWithWc() throws Exception {
        ExecProcess p = client.exec(ExecSpec.of("wc", "-c"));
        try (OutputStream in = p.stdin()) {
            in.write(new byte[5 << 20]);
        }
        String out = new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8).trim();

        assertThat(out).isEqualTo(Integer.toString(5 << 20));
        assertThat(p.waitFor().succeeded()).isTrue();
    }

    @Test
    void exec_streamsLargeOutputToSlowReaderInBoundedMemory() throws Exception {
        long total = 24L << 20;
        ExecProcess p = client.exec(ExecSpec.of("head", "-c", Long.toString(total), "/dev/zero"));
        Thread.sleep(300); // let the agent run into the closed window
        byte[] buf = new byte[16 * 1024];
        long read = 0;
        long nextPause = 1 << 20;
        int n;
        while ((n = p.stdout().read(buf)) > 0) {
            read += n;
            if (read >= nextPause) {
                Thread.sleep(4);
                nextPause += 1 << 20;
            }
        }

        assertThat(read).isEqualTo(total);
        assertThat(p.waitFor(Duration.ofSeconds(5))).isEqualTo(ExitStatus.exited(0));
        assertThat(p.maxBufferedBytes())
                .as("the host never holds more than the flow-control window")
                .isLessThanOrEqualTo(FrameType.INITIAL_WINDOW);
        assertThat(agent.peakRssKib())
                .as("the agent's peak RSS stays small while streaming 24 MiB")
                .isLessThan(8 * 1024);
    }

    @Test
    void execWithTty_runsOnAPseudoTerminal() throws Exception {
        Run r = run(ExecSpec.of("tty").withTty(24, 80));

        assertThat(r.stdout()).matches("/dev/pts/[0-9]+\\r\\n");
        assertThat(r.stderr()).isEmpty();
        assertThat(r.status().succeeded()).isTrue();
    }

    @Test
    void execWithTty_reportsSizeAndFollowsResize() throws Exception {
        ExecProcess p = client.exec(ExecSpec.of("sh", "-c", "stty size; read line; stty size").withTty(30, 100));
        InputStream out = p.stdout();
        assertThat(readUntil(out, "30 100")).contains("30 100");

        p.resize(40, 120);
        p.stdin().write('\n');
        p.stdin().flush();

        assertThat(readUntil(out, "40 120")).contains("40 120");
        assertThat(p.waitFor(Duration.ofSeconds(5))).isEqualTo(ExitStatus.exited(0));
    }

    private static String readUntil(InputStream in, String marker) throws IOException {
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            seen.write(c);
            if (seen.toString(StandardCharsets.UTF_8).contains(marker)) {
                break;
            }
        }
        return seen.toString(StandardCharsets.UTF_8);
    }

    @Test
    void signal_sigtermEndsSleepWith143() throws Exception {
        ExecProcess p = client.exec(ExecSpec.of("sleep", "30"));
        p.signal(15);

        ExitStatus status = p.waitFor(Duration.ofSeconds(5));

        assertThat(status.exitCode()).isEqualTo(143);
        assertThat(status.signal()).hasValue(15);
    }

    @Test
    void cancel_killsTheProcessAndStillReportsItsEnd() throws Exception {
        ExecProcess p = client.exec(ExecSpec.of("sleep", "30"));
        p.cancel();

        ExitStatus status = p.waitFor(Duration.ofSeconds(5));

        assertThat(status.signal()).hasValue(9);
        assertThat(p.stdout().read()).isEqualTo(-1);
    }

    @Test
    void exec_ofAMissingCommandExits127WithOneLineOnStderrAsAShellDoes() throws Exception {
        Run r = run(ExecSpec.of("no-such-program-banger", "test"));

        assertThat(r.status().exitCode()).isEqualTo(127);
        assertThat(r.status().signal()).isEmpty();
        assertThat(r.stderr()).isEqualTo("banger: no-such-program-banger: command not found\n");
        assertThat(r.stdout()).isEmpty();
    }

    @Test
    void exec_ofAMissingPathExits127NamingTheError() throws Exception {
        Run r = run(ExecSpec.of(dir.resolve("nothing-here").toString()));

        assertThat(r.status().exitCode()).isEqualTo(127);
        assertThat(r.stderr()).isEqualTo("banger: " + dir.resolve("nothing-here") + ": No such file or directory\n");
    }

    @Test
    void exec_ofAFileThatIsNotExecutableExits126() throws Exception {
        Path script = Files.writeString(dir.resolve("script.sh"), "#!/bin/sh\necho hi\n");

        Run r = run(ExecSpec.of(script.toString()));

        assertThat(r.status().exitCode()).isEqualTo(126);
        assertThat(r.stderr()).isEqualTo("banger: " + script + ": Permission denied\n");
    }

    @Test
    void exec_ofAMissingCommandOnATerminalSaysSoOnTheTerminal() throws Exception {
        Run r = run(ExecSpec.of("no-such-program-banger").withTty(24, 80).withoutStdin());

        assertThat(r.status().exitCode()).isEqualTo(127);
        assertThat(r.stdout()).isEqualTo("banger: no-such-program-banger: command not found\r\n");
    }

    @Test
    void exec_inMissingDirectoryFailsWithExecFailed() throws Exception {
        ExecProcess p = client.exec(ExecSpec.of("true").withCwd("/no/such/dir"));

        assertThatThrownBy(p::waitFor)
                .isInstanceOf(AgentException.class)
                .hasMessageContaining("cwd /no/such/dir")
                .extracting(e -> ((AgentException) e).code()).isEqualTo(AgentError.EXEC_FAILED);
    }

    @Test
    void exec_usesCwdAndAddsEnvToTheBaseEnvironment() throws Exception {
        Run r = run(ExecSpec.of("sh", "-c", "pwd; echo \"$FOO\"; echo \"$HOME\"; echo \"$USER\"")
                .withCwd(dir.toString())
                .withEnv(Map.of("FOO", "bar baz", "USER", "builder")));

        assertThat(r.stdout()).isEqualTo(dir + "\nbar baz\n/root\nbuilder\n");
    }

    @Test
    void exec_runsSeveralProgramsConcurrentlyOnOneConnection() throws Exception {
        List<ExecProcess> processes = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < 10; i++) {
            processes.add(client.exec(ExecSpec.of("sh", "-c", "sleep 0.5; echo job-$0", Integer.toString(i))));
        }
        for (int i = 0; i < 10; i++) {
            ExecProcess p = processes.get(i);
            assertThat(new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("job-" + i + "\n");
            assertThat(p.waitFor().succeeded()).isTrue();
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .as("ten 0.5 s jobs ran side by side")
                .isLessThan(Duration.ofMillis(2500));
    }

    @Test
    void closingTheClient_killsItsProcessesAndTheAgentServesOthers() throws Exception {
        ExecProcess p = client.exec(ExecSpec.of("sh", "-c", "echo $$; exec sleep 60"));
        long pid = Long.parseLong(readUntil(p.stdout(), "\n").trim());
        ProcessHandle sleeper = ProcessHandle.of(pid).orElseThrow();

        client.close();

        assertThatThrownBy(() -> p.waitFor(Duration.ofSeconds(2))).isInstanceOf(AgentException.class);
        assertThat(sleeper.onExit().get(5, TimeUnit.SECONDS).isAlive()).isFalse();
        try (AgentClient other = agent.connect()) {
            assertThat(other.ping().protocol()).isEqualTo(1);
        }
        assertThat(agent.isAlive()).isTrue();
    }

    @Test
    void lostConnection_failsOpenChannelsPromptly() throws Exception {
        ExecProcess p = client.exec(ExecSpec.of("sh", "-c", "echo $$; exec sleep 30"));
        ProcessHandle sleeper = ProcessHandle.of(Long.parseLong(readUntil(p.stdout(), "\n").trim())).orElseThrow();
        agent.killHard();

        assertThatThrownBy(() -> p.waitFor(Duration.ofSeconds(5)))
                .isInstanceOf(AgentException.class)
                .hasMessageContaining("lost");
        assertThatThrownBy(() -> p.stdout().read()).isInstanceOf(AgentException.class);
        assertThat(client.isConnected()).isFalse();
        assertThat(sleeper.onExit().get(5, TimeUnit.SECONDS).isAlive())
                .as("the agent's children die with it (PR_SET_PDEATHSIG)").isFalse();
    }

    @Test
    void shutdown_inAgentModeEndsTheAgentProcess() throws Exception {
        client.shutdown(ShutdownAction.POWEROFF);

        assertThat(agent.process().waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(agent.process().exitValue()).isZero();
    }

    @Test
    void awaitReady_returnsAClientOnceTheAgentAnswers() throws Exception {
        try (AgentClient ready = AgentClient.awaitReady(agent.transport(), Duration.ofSeconds(5),
                dir.resolve("console.log"))) {
            assertThat(ready.isConnected()).isTrue();
        }
    }

    @Test
    void awaitReady_namesTheSerialLogWhenTheAgentNeverAnswers() {
        Path log = dir.resolve("console.log");
        long start = System.nanoTime();

        assertThatThrownBy(() -> AgentClient.awaitReady(new UnixSocketTransport(dir.resolve("absent.sock")),
                Duration.ofSeconds(1), log))
                .isInstanceOf(AgentException.class)
                .hasMessage("guest agent did not answer within 1s; see the serial console log " + log);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }
}
