package dev.banger.vmm.firecracker;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The kernel command line a Firecracker guest boots with: the spec's own line, with two banger-init keys forced and
 * Firecracker's usual parameters added where the spec does not set them already.
 *
 * <p>Forced: {@code banger.agent=vsock:PORT} (Firecracker has no virtio-serial) and {@code banger.halt=reboot}:
 * Firecracker on x86 has no ACPI power-off (its guests have ACPI tables since 1.8, but a power-off only halts the
 * CPUs and the process keeps running), while a guest reboot through the keyboard controller ends the process.
 *
 * <p>Added: {@code console=ttyS0} (the console is the process's stdout), {@code reboot=k} (reboot through the
 * keyboard controller, on which Firecracker exits), {@code panic=1}, {@code pci=off} (the devices are virtio-mmio)
 * and the {@code i8042.*} options of Firecracker's default line, which skip probing for a mouse, a multiplexer
 * and keyboard state but keep the keyboard that {@code SendCtrlAltDel} needs. Not {@code i8042.nopnp}: on a
 * kernel with ACPI it hides the keyboard, which is described only in ACPI, so Ctrl-Alt-Del never arrives
 * (Firecracker dropped it from its own defaults in 1.12 for that reason).
 */
final class BootArgs {

    static final List<String> FIRECRACKER_DEFAULTS = List.of("console=ttyS0", "reboot=k", "panic=1", "pci=off",
            "i8042.noaux", "i8042.nomux", "i8042.dumbkbd");

    static final String AGENT_KEY = "banger.agent";
    /** banger-init's key for how a power-off ends the machine (docs/guest-boot.md). */
    static final String HALT_KEY = "banger.halt";
    static final String HALT = HALT_KEY + "=reboot";

    private BootArgs() {
    }

    /**
     * @param specCmdline the VM's kernel command line (may carry {@code banger.agent=serial:...} for QEMU)
     * @param agentPort the guest's vsock port for the agent
     */
    static String build(String specCmdline, int agentPort) {
        List<String> tokens = split(specCmdline);
        // Kernel parameters must stay before a "--" (what follows is init's argv), so the additions go first.
        List<String> out = new ArrayList<>();
        for (String param : FIRECRACKER_DEFAULTS) {
            if (!hasKey(tokens, key(param))) {
                out.add(param);
            }
        }
        String agent = AGENT_KEY + "=vsock:" + agentPort;
        Map<String, String> forced = Map.of(AGENT_KEY, agent, HALT_KEY, HALT);
        for (String param : List.of(agent, HALT)) {
            if (!hasKey(tokens, key(param))) {
                out.add(param);
            }
        }
        boolean initArgs = false;
        for (String t : tokens) {
            initArgs |= t.equals("--");
            out.add(initArgs ? t : forced.getOrDefault(key(t), t));
        }
        return String.join(" ", out);
    }

    private static boolean hasKey(List<String> tokens, String key) {
        for (String t : tokens) {
            if (t.equals("--")) {
                return false;
            }
            if (key(t).equals(key)) {
                return true;
            }
        }
        return false;
    }

    static String key(String param) {
        int eq = param.indexOf('=');
        return eq < 0 ? param : param.substring(0, eq);
    }

    /** Splits on blanks outside double quotes, as the kernel does ({@code foo="a b"} is one parameter). */
    static List<String> split(String cmdline) {
        List<String> tokens = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < cmdline.length(); i++) {
            char c = cmdline.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            }
            if (!quoted && Character.isWhitespace(c)) {
                if (cur.length() > 0) {
                    tokens.add(cur.toString());
                    cur.setLength(0);
                }
            } else {
                cur.append(c);
            }
        }
        if (cur.length() > 0) {
            tokens.add(cur.toString());
        }
        return tokens;
    }
}
