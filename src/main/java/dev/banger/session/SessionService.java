package dev.banger.session;

import dev.banger.api.BangerException;
import dev.banger.api.Empty;
import dev.banger.api.SessionAttachRequest;
import dev.banger.api.SessionEnd;
import dev.banger.api.SessionKillRequest;
import dev.banger.api.SessionList;
import dev.banger.api.SessionLogsRequest;
import dev.banger.api.SessionRef;
import dev.banger.api.SessionStartRequest;
import dev.banger.api.SessionView;
import dev.banger.guest.AgentClient;
import dev.banger.guest.AgentException;
import dev.banger.guest.ExecSpec;
import dev.banger.guest.ExitStatus;
import dev.banger.guest.SessionAttachment;
import dev.banger.guest.SessionInfo;
import dev.banger.guest.SessionOutcome;
import dev.banger.model.Names;
import dev.banger.model.Signals;
import dev.banger.model.Vm;
import dev.banger.rpc.Call;
import dev.banger.vm.GuestIo;
import dev.banger.vm.GuestErrors;
import dev.banger.vm.GuestTarget;
import dev.banger.vm.RunningVms;
import java.io.IOException;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guest sessions ({@code banger session ...}): long-running commands that live in the guest's agent, so
 * they survive the client going away and the daemon restarting. The daemon keeps no state of its own for them:
 * every call asks the VM's agent. No VM lock is held: an attach may last for days.
 */
public final class SessionService {

    private static final Logger log = LoggerFactory.getLogger(SessionService.class);

    private final RunningVms vms;

    public SessionService(RunningVms vms) {
        this.vms = vms;
    }

    public SessionView start(SessionStartRequest request) {
        if (request.argv() == null || request.argv().isEmpty()) {
            throw BangerException.invalidArgument("name a command to run after --");
        }
        if (request.session() != null) {
            Names.requireValid("session", request.session());
        }
        GuestTarget target = vms.target(request.vm());
        Vm vm = target.vm();
        AgentClient agent = target.agent();
        ExecSpec spec = target.command(request.argv(), request.env(), request.cwd(), request.tty(), request.rows(),
                request.cols());
        String name = request.session();
        try {
            if (name == null) {
                name = freeName(agent, request.argv().get(0));
            } else if (!request.replace()) {
                refuseEnded(agent, vm, name);
            }
            agent.startSession(name, spec);
            String started = name;
            return agent.listSessions().stream().filter(s -> s.name().equals(started)).findFirst()
                    .map(SessionService::view)
                    .orElseThrow(() -> BangerException.unavailable("session '" + started + "' in VM '" + vm.name()
                            + "' ended and was removed at once"));
        } catch (IOException e) {
            throw failure(vm, name, e);
        }
    }

    public SessionList list(String vmName) {
        GuestTarget target = vms.target(vmName);
        try {
            return new SessionList(target.agent().listSessions().stream().map(SessionService::view).toList());
        } catch (IOException e) {
            throw GuestErrors.lost(target.vm(), e);
        }
    }

    public SessionEnd attach(SessionAttachRequest request, Call call) throws InterruptedException {
        String name = requireSession(request.session());
        GuestTarget target = vms.target(request.vm());
        SessionAttachment view;
        try {
            view = target.agent().attachSession(name, request.replay());
            if (request.rows() > 0 && request.cols() > 0) {
                view.resize(request.rows(), request.cols());
            }
        } catch (IOException e) {
            throw failure(target.vm(), name, e);
        }
        return follow(target.vm(), name, view, call, true);
    }

    public SessionEnd logs(SessionLogsRequest request, Call call) throws InterruptedException {
        String name = requireSession(request.session());
        GuestTarget target = vms.target(request.vm());
        SessionAttachment view;
        try {
            view = target.agent().sessionLogs(name, request.follow());
        } catch (IOException e) {
            throw failure(target.vm(), name, e);
        }
        return follow(target.vm(), name, view, call, false);
    }

    public Empty kill(SessionKillRequest request) {
        String name = requireSession(request.session());
        int signal = Signals.parse(request.signal() == null ? "TERM" : request.signal());
        GuestTarget target = vms.target(request.vm());
        try {
            target.agent().killSession(name, signal);
            return Empty.INSTANCE;
        } catch (IOException e) {
            throw failure(target.vm(), name, e);
        }
    }

    public Empty remove(SessionRef request) {
        String name = requireSession(request.session());
        GuestTarget target = vms.target(request.vm());
        try {
            target.agent().removeSession(name);
            return Empty.INSTANCE;
        } catch (IOException e) {
            throw failure(target.vm(), name, e);
        }
    }

    /** Streams a view's output to the client (and, for attach, the client's input to the session). */
    private SessionEnd follow(Vm vm, String name, SessionAttachment view, Call call, boolean input)
            throws InterruptedException {
        call.onCancel(() -> detachQuietly(view));
        Thread out = GuestIo.pumpOutput(view.output(), "stdout", call, "session-output");
        Thread in = input ? GuestIo.forwardInput(view, call, "session-input") : null;
        try {
            SessionOutcome outcome = view.waitFor();
            out.join();
            ExitStatus status = outcome.exitStatus();
            return new SessionEnd(outcome.detached(), status == null ? null : status.exitCode(),
                    status == null || status.signal().isEmpty() ? null : status.signal().getAsInt(),
                    outcome.lostBytes());
        } catch (IOException e) {
            throw failure(vm, name, e);
        } finally {
            if (in != null) {
                in.interrupt();
            }
        }
    }

    private static void detachQuietly(SessionAttachment view) {
        try {
            view.detach();
        } catch (IOException e) {
            log.debug("detach failed: {}", e.toString());
        }
    }

    /** An ended session keeps its output until removed: starting another of its name would drop it unread. */
    private static void refuseEnded(AgentClient agent, Vm vm, String name) throws IOException {
        for (SessionInfo s : agent.listSessions()) {
            if (s.name().equals(name) && s.exitStatus() != null) {
                throw BangerException.conflict("session '" + name + "' in VM '" + vm.name() + "' has ended and "
                        + "keeps its output (banger session logs " + vm.name() + " " + name + "); remove it first "
                        + "(banger session rm " + vm.name() + " " + name + ") or start with --replace");
            }
        }
    }

    /** The command's name as a session name, made unique with -2, -3, ... among the VM's sessions. */
    private static String freeName(AgentClient agent, String program) throws IOException {
        String base = program.substring(program.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9-]+", "-").replaceAll("^-+|-+$", "");
        if (base.length() > 50) {
            base = base.substring(0, 50).replaceAll("-+$", "");
        }
        if (base.isEmpty()) {
            base = "session";
        }
        Set<String> taken = agent.listSessions().stream().map(SessionInfo::name).collect(Collectors.toSet());
        String name = base;
        for (int i = 2; taken.contains(name); i++) {
            name = base + "-" + i;
        }
        return name;
    }

    private static String requireSession(String name) {
        if (name == null || name.isEmpty()) {
            throw BangerException.invalidArgument("a session name is required; see: banger session list VM");
        }
        return name;
    }

    static SessionView view(SessionInfo s) {
        ExitStatus status = s.exitStatus();
        String state = status == null ? "running" : status.signal().isPresent() ? "killed" : "exited";
        return new SessionView(s.name(), s.pid(), s.argv(), s.tty(), state, status == null ? null : status.exitCode(),
                status == null || status.signal().isEmpty() ? null : status.signal().getAsInt(),
                s.startedAt().toString(), s.runtime().toMillis(), s.outputBytes(), s.droppedBytes(), s.attached());
    }

    /** The agent's answer, in the user's words, with what to do next for the session codes. */
    private static BangerException failure(Vm vm, String session, IOException failure) {
        if (!(failure instanceof AgentException e) || e.code() == null) {
            return GuestErrors.lost(vm, failure);
        }
        String where = "session '" + session + "' in VM '" + vm.name() + "'";
        return switch (e.code()) {
            case NOT_FOUND -> BangerException.notFound("no " + where + "; see: banger session list " + vm.name());
            case ALREADY_EXISTS -> BangerException.alreadyExists(where + " is already running; attach with: "
                    + "banger session attach " + vm.name() + " " + session);
            case NOT_RUNNING -> BangerException.conflict(where + " has already ended; see: banger session list "
                    + vm.name());
            case STILL_RUNNING -> BangerException.conflict(where + " is still running; stop it first: "
                    + "banger session kill " + vm.name() + " " + session);
            default -> GuestErrors.of(vm, "VM '" + vm.name() + "'", e);
        };
    }
}
