package dev.banger.guest;

import java.util.List;
import java.util.Objects;

/**
 * What a {@code guest.personalise} did (docs/agent-protocol.md).
 *
 * @param applied the steps the guest applied, in order
 * @param skipped steps that were asked for and not done, each with the guest's reason (sshd in an image without
 *     one); empty from agents that do not report them
 */
public record Personalised(List<String> applied, List<Skipped> skipped) {

    /** A step that was asked for and not done. */
    public record Skipped(String step, String why) {
        public Skipped {
            Objects.requireNonNull(step, "step");
            Objects.requireNonNull(why, "why");
        }
    }

    public Personalised {
        applied = List.copyOf(applied);
        skipped = List.copyOf(skipped);
    }

    /** "entropy, clock, hostname; sshd not started: /usr/sbin/sshd is not in this image", for progress lines. */
    public String describe() {
        StringBuilder out = new StringBuilder(String.join(", ", applied));
        for (Skipped s : skipped) {
            out.append(out.isEmpty() ? "" : "; ").append(s.step()).append(" not started: ").append(s.why());
        }
        return out.toString();
    }
}
