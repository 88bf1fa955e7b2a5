package dev.banger.guest;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One operation of the agent protocol (docs/agent-protocol.md, "Operations"): its wire name, the fields of its OPEN
 * request, and how its RESULT reads as {@code R}. An op the agent answers with one RESULT is a {@link Call}
 * ({@link AgentClient#call}); one that streams on its channel first is a {@link Channel} ({@link AgentClient#open}),
 * which also makes the handle the caller streams through. Adding an op is one more record here (and its handler in
 * the agent); {@link AgentCodec} does the JSON.
 *
 * @param <R> what the op's RESULT says
 */
public sealed interface AgentOp<R> {

    /** The op's {@code "op"} value. */
    String wireName();

    /** Puts the request's fields besides {@code "op"}. */
    default void write(AgentCodec.Request out) {
    }

    /** Reads the RESULT; a missing field the result needs is an {@link AgentException}. */
    R read(AgentCodec.Fields in) throws AgentException;

    /** An op answered by a single RESULT (or ERROR) and nothing else. */
    sealed interface Call<R> extends AgentOp<R> {
    }

    /**
     * An op whose channel carries data (stdin, stdout, stderr, signals) until its RESULT.
     *
     * @param <H> the handle the caller streams through
     */
    sealed interface Channel<R, H> extends AgentOp<R> {

        /** What runs on the channel, for messages ("exec uname -a", "attach to session build"). */
        String describe();

        /** False when the channel takes no input: writes to its stdin then fail. */
        boolean stdin();

        /**
         * The output (STDOUT+STDERR) window this side grants the agent: the protocol's initial window, unless an op
         * streams more than a round trip's worth of it (the rest is granted with a WINDOW frame after OPEN).
         */
        default int outputWindow() {
            return FrameType.INITIAL_WINDOW;
        }

        /** The caller's handle over the channel. */
        H handle(AgentChannel<R> channel);
    }

    /** The channel ops on one session, ending with how the session (or this view of it) ended. */
    sealed interface OnSession extends Channel<SessionOutcome, SessionAttachment> {
        String name();

        @Override
        default SessionOutcome read(AgentCodec.Fields in) throws AgentException {
            return sessionOutcome(in);
        }

        @Override
        default SessionAttachment handle(AgentChannel<SessionOutcome> channel) {
            return new SessionAttachment(channel, name());
        }
    }

    /** The file copies: a tar archive of one guest path, ending with what was copied. */
    sealed interface OnPath<H> extends Channel<CopyStats, H> {
        String path();

        /** Where the archive may go over TCP instead of the channel, or null. */
        CopyConnection.Offer tcp();

        @Override
        default void write(AgentCodec.Request out) {
            out.put("path", path());
            if (tcp() != null) {
                out.put("tcp", tcp().wire());
            }
        }

        @Override
        default CopyStats read(AgentCodec.Fields in) throws AgentException {
            return copyStats(in);
        }
    }

    /** A call whose RESULT is empty: done is all it says. */
    sealed interface Acknowledged extends Call<Void> {
        @Override
        default Void read(AgentCodec.Fields in) {
            return null;
        }
    }

    /** The agent's identity and uptime. */
    record Ping() implements Call<AgentInfo> {
        @Override
        public String wireName() {
            return "ping";
        }

        @Override
        public AgentInfo read(AgentCodec.Fields in) throws AgentException {
            return new AgentInfo(in.integer("protocol"), in.text("version"), in.number("uptime_ms"),
                    in.text("hostname"));
        }
    }

    /** Runs a program; the channel carries its stdio and ends with its exit status. */
    record Exec(ExecSpec spec) implements Channel<ExitStatus, ExecProcess> {
        public Exec {
            Objects.requireNonNull(spec, "spec");
        }

        @Override
        public String wireName() {
            return "exec";
        }

        @Override
        public void write(AgentCodec.Request out) {
            writeSpec(spec, out);
        }

        @Override
        public ExitStatus read(AgentCodec.Fields in) throws AgentException {
            return exitStatus(in);
        }

        @Override
        public String describe() {
            return spec.toString();
        }

        @Override
        public boolean stdin() {
            return spec.stdin();
        }

        @Override
        public ExecProcess handle(AgentChannel<ExitStatus> channel) {
            return new ExecProcess(channel, spec);
        }
    }

    /** Starts a named session running {@code spec}; the result is its pid. */
    record SessionStart(String name, ExecSpec spec) implements Call<Integer> {
        public SessionStart {
            Objects.requireNonNull(spec, "spec");
        }

        @Override
        public String wireName() {
            return "session.start";
        }

        @Override
        public void write(AgentCodec.Request out) {
            writeSpec(spec, out);
            out.put("name", name);
        }

        @Override
        public Integer read(AgentCodec.Fields in) throws AgentException {
            return in.integer("pid");
        }
    }

    /** The sessions, running and ended, in the order they were started. */
    record SessionList() implements Call<List<SessionInfo>> {
        @Override
        public String wireName() {
            return "session.list";
        }

        @Override
        public List<SessionInfo> read(AgentCodec.Fields in) throws AgentException {
            return in.objects("sessions", AgentOp::sessionInfo);
        }
    }

    /** A session's output (with {@code replay}, its buffer first) and input, until it ends or this side detaches. */
    record SessionAttach(String name, boolean replay) implements OnSession {
        @Override
        public String wireName() {
            return "session.attach";
        }

        @Override
        public void write(AgentCodec.Request out) {
            out.put("name", name);
            out.put("replay", replay);
        }

        @Override
        public String describe() {
            return "attach to session " + name;
        }

        @Override
        public boolean stdin() {
            return true;
        }
    }

    /** A session's buffered output; with {@code follow}, then its live output until it ends. */
    record SessionLogs(String name, boolean follow) implements OnSession {
        @Override
        public String wireName() {
            return "session.logs";
        }

        @Override
        public void write(AgentCodec.Request out) {
            out.put("name", name);
            out.put("follow", follow);
        }

        @Override
        public String describe() {
            return "logs of session " + name;
        }

        @Override
        public boolean stdin() {
            return false;
        }
    }

    /** Sends {@code signal} (a Linux signal number) to a session's process group. */
    record SessionKill(String name, int signal) implements Acknowledged {
        public SessionKill {
            if (signal < 1 || signal > 64) {
                throw new IllegalArgumentException("not a signal number: " + signal);
            }
        }

        @Override
        public String wireName() {
            return "session.kill";
        }

        @Override
        public void write(AgentCodec.Request out) {
            out.put("name", name);
            out.put("signal", signal);
        }
    }

    /** Forgets an ended session. */
    record SessionRemove(String name) implements Acknowledged {
        @Override
        public String wireName() {
            return "session.remove";
        }

        @Override
        public void write(AgentCodec.Request out) {
            out.put("name", name);
        }
    }

    /** A tar archive of {@code path} (absolute) out of the guest, over TCP when {@code tcp} is not null. */
    record FileRead(String path, CopyConnection.Offer tcp) implements OnPath<FileCopyOut> {
        @Override
        public String wireName() {
            return "file.read";
        }

        @Override
        public String describe() {
            return "copy of " + path + " out of the guest";
        }

        /** Over TCP, EOF on stdin tells the guest the archive comes on the channel after all. */
        @Override
        public boolean stdin() {
            return tcp != null;
        }

        @Override
        public int outputWindow() {
            return FrameType.FILE_COPY_WINDOW;
        }

        @Override
        public FileCopyOut handle(AgentChannel<CopyStats> channel) {
            return new FileCopyOut(channel);
        }
    }

    /** A tar archive extracted at {@code path} (absolute) in the guest, sent over TCP when {@code tcp} is not null. */
    record FileWrite(String path, CopyConnection.Offer tcp) implements OnPath<FileCopyIn> {
        @Override
        public String wireName() {
            return "file.write";
        }

        @Override
        public String describe() {
            return "copy into the guest at " + path;
        }

        @Override
        public boolean stdin() {
            return true;
        }

        @Override
        public FileCopyIn handle(AgentChannel<CopyStats> channel) {
            return new FileCopyIn(channel);
        }
    }

    /** Listening TCP and bound UDP sockets in the guest, by port. */
    record Ports() implements Call<List<ListeningPort>> {
        @Override
        public String wireName() {
            return "ports";
        }

        @Override
        public List<ListeningPort> read(AgentCodec.Fields in) throws AgentException {
            return in.objects("ports", AgentOp::listeningPort);
        }
    }

    /** Stops the guest's processes, unmounts and powers off or reboots; answered before it begins. */
    record Shutdown(ShutdownAction action) implements Acknowledged {
        public Shutdown {
            Objects.requireNonNull(action, "action");
        }

        @Override
        public String wireName() {
            return "shutdown";
        }

        @Override
        public void write(AgentCodec.Request out) {
            out.put("action", action.wireName());
        }
    }

    /**
     * Sets the guest's wall clock to {@code hostTime} when it is off by more than {@code tolerance}; reports the
     * offset either way. The host's time is as of sending, so the guest ends up behind by the request's transit.
     */
    /**
     * Steps the guest's clock by {@code delta} (relative, so the request's transit does not count; zero only reads)
     * and answers its clock after the step.
     */
    record ClockAdjust(Duration delta) implements Call<ClockReading> {
        public ClockAdjust {
            Objects.requireNonNull(delta, "delta");
        }

        @Override
        public String wireName() {
            return "clock.adjust";
        }

        @Override
        public void write(AgentCodec.Request out) {
            out.put("delta_ms", delta.toMillis());
        }

        @Override
        public ClockReading read(AgentCodec.Fields in) throws AgentException {
            return new ClockReading(Instant.ofEpochSecond(in.number("sec"), in.number("nsec")), in.flag("stepped"));
        }
    }

    record ClockSet(Instant hostTime, Duration tolerance) implements Call<ClockStep> {
        public ClockSet {
            Objects.requireNonNull(hostTime, "hostTime");
            if (tolerance.isNegative()) {
                throw new IllegalArgumentException("negative tolerance: " + tolerance);
            }
        }

        @Override
        public String wireName() {
            return "clock.set";
        }

        @Override
        public void write(AgentCodec.Request out) {
            out.put("sec", hostTime.getEpochSecond());
            out.put("nsec", hostTime.getNano());
            out.put("tolerance_ms", tolerance.toMillis());
        }

        @Override
        public ClockStep read(AgentCodec.Fields in) throws AgentException {
            return new ClockStep(in.number("offset_ms"), in.flag("stepped"));
        }
    }

    /**
     * Ensures root's authorized_keys holds {@code publicKey} ("TYPE BASE64 [COMMENT]", written with
     * {@code comment}) and drops other keys marked with {@code comment}; lines a user added stay.
     */
    record SshAuthorize(String publicKey, String comment) implements Call<KeyAuthorization> {
        public SshAuthorize {
            Objects.requireNonNull(publicKey, "publicKey");
            Objects.requireNonNull(comment, "comment");
        }

        @Override
        public String wireName() {
            return "ssh.authorize";
        }

        @Override
        public void write(AgentCodec.Request out) {
            out.put("key", publicKey);
            out.put("comment", comment);
        }

        @Override
        public KeyAuthorization read(AgentCodec.Fields in) throws AgentException {
            return new KeyAuthorization(in.flag("added"), in.integer("removed"));
        }
    }

    /**
     * Gives a guest restored from a template its own identity (docs/snapshots.md), before anything else runs in it;
     * the RESULT lists the steps applied, in order ("entropy", "clock", "hostname", "machine-id", "network",
     * "work-disk", "sshd"). An agent that is not PID 1 (tests on the host) checks the request and applies nothing.
     */
    record Personalise(Personalisation identity) implements Call<Personalised> {
        public Personalise {
            Objects.requireNonNull(identity, "identity");
        }

        @Override
        public String wireName() {
            return "guest.personalise";
        }

        @Override
        public void write(AgentCodec.Request out) {
            out.put("version", Personalisation.VERSION);
            out.put("hostname", identity.hostname());
            identity.network().ifPresent(net -> {
                out.put("mac", net.mac());
                out.put("ip", net.addressCidr());
                out.put("gateway", net.gateway());
                if (!net.dns().isEmpty()) {
                    out.put("dns", net.dns());
                }
            });
            out.put("sec", identity.hostTime().getEpochSecond());
            out.put("nsec", identity.hostTime().getNano());
            out.put("entropy", java.util.HexFormat.of().formatHex(identity.entropy()));
            out.put("machine_id", identity.machineId());
            out.put("work", identity.workDisk());
            out.put("sshd", identity.startSshd());
        }

        @Override
        public Personalised read(AgentCodec.Fields in) throws AgentException {
            return new Personalised(in.texts("applied"), in.has("skipped")
                    ? in.objects("skipped", f -> new Personalised.Skipped(f.text("step"), f.text("why")))
                    : List.of());
        }
    }

    // --- fields several ops share ---

    private static void writeSpec(ExecSpec spec, AgentCodec.Request out) {
        out.put("argv", spec.argv());
        if (!spec.env().isEmpty()) {
            out.put("env", spec.env());
        }
        if (spec.cwd() != null) {
            out.put("cwd", spec.cwd());
        }
        out.put("tty", spec.tty());
        if (spec.tty()) {
            out.put("rows", spec.rows());
            out.put("cols", spec.cols());
        }
        out.put("stdin", spec.stdin());
    }

    /** {"exit_code":N} or {"exit_code":128+S,"signal":S}. */
    private static ExitStatus exitStatus(AgentCodec.Fields in) throws AgentException {
        return in.has("signal") ? ExitStatus.killed(in.integer("signal")) : ExitStatus.exited(in.integer("exit_code"));
    }

    /** An attach or logs channel's end: {"running":false,exit status,"lost":N} or {"detached":true,"lost":N}. */
    private static SessionOutcome sessionOutcome(AgentCodec.Fields in) throws AgentException {
        boolean ended = !in.flag("running", true);
        return new SessionOutcome(in.flag("detached", false), ended ? exitStatus(in) : null, in.number("lost"));
    }

    private static SessionInfo sessionInfo(AgentCodec.Fields in) throws AgentException {
        return new SessionInfo(in.text("name"), in.integer("pid"), in.texts("argv"), in.flag("tty"),
                in.flag("running") ? null : exitStatus(in), Instant.ofEpochMilli(in.number("started_at")),
                Duration.ofMillis(in.number("runtime_ms")), in.number("bytes"), in.number("dropped"),
                in.integer("attached"));
    }

    private static CopyStats copyStats(AgentCodec.Fields in) throws AgentException {
        if (in.flag("cancelled", false)) {
            // This side cancelled the copy: the helper's counts never reach the agent.
            return new CopyStats(0, 0, 0, 0, 0, 0, List.of());
        }
        return new CopyStats(in.number("files"), in.number("dirs"), in.number("symlinks"), in.number("others"),
                in.number("bytes"), in.number("skipped"), in.texts("warnings"));
    }

    /** pid and command are absent when no process holding the socket was found. */
    private static ListeningPort listeningPort(AgentCodec.Fields in) throws AgentException {
        Integer pid = in.optionalInteger("pid");
        return new ListeningPort(in.text("protocol"), in.text("address"), in.integer("port"), pid,
                pid == null ? null : in.text("command"));
    }
}
