package dev.banger.workspace;

import dev.banger.api.BangerException;
import dev.banger.api.Event;
import dev.banger.api.WorkspaceExportResult;
import dev.banger.guest.AgentClient;
import dev.banger.guest.ExecProcess;
import dev.banger.guest.ExecSpec;
import dev.banger.guest.ExitStatus;
import dev.banger.rpc.Call;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The guest half of {@code workspace export}: the guest's own git writes a bundle of the work (its HEAD, or with
 * uncommitted changes a commit of the whole working tree on top of it) and the bytes stream to the client. A
 * bundle rather than a copy of {@code .git}: the guest is untrusted, and {@code git fetch} verifies a bundle
 * where extracting a tree on the host would have to defend against every trick a tar can play.
 */
final class GuestExport {

    static final String EXPORT_REF = "refs/banger/export";

    /** Run with sh -c; $1 is the repository, $2 is 1 to include uncommitted changes. Ours, not user input. */
    static final String SCRIPT = String.join("\n",
            "set -e",
            "cd \"$1\"",
            "command -v git >/dev/null 2>&1 || { echo 'git is not installed in the guest' >&2; exit 64; }",
            "git rev-parse --git-dir >/dev/null 2>&1 || { echo \"$1 is not a git repository\" >&2; exit 65; }",
            "commit=$(git rev-parse -q --verify HEAD || true)",
            "if [ \"$2\" = 1 ]; then",
            "  export GIT_INDEX_FILE=\"$(mktemp)\"",
            "  cp .git/index \"$GIT_INDEX_FILE\" 2>/dev/null || true",
            "  git add -A",
            "  tree=$(git write-tree)",
            "  rm -f \"$GIT_INDEX_FILE\"; unset GIT_INDEX_FILE",
            "  if [ -z \"$commit\" ] || [ \"$tree\" != \"$(git rev-parse \"$commit^{tree}\")\" ]; then",
            "    commit=$(git -c user.name=\"${GIT_AUTHOR_NAME:-banger}\" -c user.email=\"${GIT_AUTHOR_EMAIL:-banger@localhost}\""
                    + " commit-tree \"$tree\" ${commit:+-p \"$commit\"} -m 'Uncommitted changes exported by banger')",
            "  fi",
            "fi",
            "[ -n \"$commit\" ] || { echo 'nothing to export: the guest repository has no commits' >&2; exit 66; }",
            "git update-ref " + EXPORT_REF + " \"$commit\"",
            "echo \"$commit\" >&2",
            "git bundle create - " + EXPORT_REF + " 2>/dev/null");

    private GuestExport() {
    }

    static WorkspaceExportResult export(AgentClient guest, String guestPath, boolean uncommitted, Call call)
            throws IOException, InterruptedException {
        ExecProcess sh = guest.exec(ExecSpec.of(List.of("sh", "-c", SCRIPT, "banger-export", guestPath,
                uncommitted ? "1" : "0")).withoutStdin());
        call.onCancel(() -> {
            try {
                sh.cancel();
            } catch (IOException ignored) {
                // Already gone.
            }
        });
        StringBuilder stderr = new StringBuilder();
        Thread errors = new Thread(() -> {
            try (InputStream err = sh.stderr()) {
                stderr.append(new String(err.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // The exit status tells.
            }
        }, "export-stderr");
        errors.setDaemon(true);
        errors.start();
        long bytes = 0;
        byte[] buf = new byte[64 * 1024];
        try (InputStream out = sh.stdout()) {
            int n;
            while ((n = out.read(buf)) > 0) {
                call.emit(new Event.Output("stdout", Arrays.copyOf(buf, n)));
                bytes += n;
            }
        }
        ExitStatus status = sh.waitFor();
        errors.join();
        String[] lines = stderr.toString().strip().split("\n");
        String last = lines[lines.length - 1];
        if (!status.succeeded()) {
            throw BangerException.failedPrecondition("cannot export " + guestPath + ": " + last);
        }
        return new WorkspaceExportResult(EXPORT_REF, last.strip(), bytes);
    }
}
