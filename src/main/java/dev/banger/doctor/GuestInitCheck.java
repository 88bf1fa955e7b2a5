package dev.banger.doctor;

import dev.banger.config.BangerInstall;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The doctor's {@code banger-init} line: the guest agent every initramfs carries as {@code /init} is where the daemon
 * takes it from ({@link BangerInstall#initBinary}: {@code guest/banger-init} beside {@code banger.jar}, in a build
 * tree and in the package alike) and is a static x86-64 executable (a guest has no host libraries to load, so a
 * dynamically linked one cannot start as PID 1). Required: no VM boots without it.
 */
final class GuestInitCheck {

    static final String CHECK = "banger-init";
    /** Bytes read from the start of the file: the ELF header and, in any linker's output, its program headers. */
    static final int HEAD_BYTES = 64 * 1024;

    private static final int EM_X86_64 = 62;
    private static final int ET_EXEC = 2;
    private static final int ET_DYN = 3;
    private static final int PT_INTERP = 3;

    private final Doctor.HostProbe host;
    private final Path init;
    private final boolean packaged;

    /**
     * @param init where the daemon takes banger-init from
     * @param packaged whether this is the Debian package (the fix is then a reinstall, not a build)
     */
    GuestInitCheck(Doctor.HostProbe host, Path init, boolean packaged) {
        this.host = host;
        this.init = init;
        this.packaged = packaged;
    }

    CheckResult run() {
        if (!host.exists(init)) {
            return fail(init + " does not exist: VMs cannot boot");
        }
        Optional<byte[]> head = host.readHead(init, HEAD_BYTES);
        if (head.isEmpty()) {
            return fail(init + " cannot be read: VMs cannot boot");
        }
        Optional<String> problem = staticExecutableProblem(head.get());
        if (problem.isPresent()) {
            return fail(init + " is " + problem.get() + ": VMs cannot boot with it");
        }
        if (!host.isExecutable(init)) {
            return fail(init + " is not executable: VMs cannot boot with it");
        }
        return CheckResult.pass(CHECK, init + " (static x86-64 executable)");
    }

    private CheckResult fail(String detail) {
        String fix = packaged ? "reinstall the package: apt-get install --reinstall banger"
                : "build it: mvn -q package -DskipTests in the checkout (it needs gcc and a static libc: apt-get "
                        + "install gcc libc6-dev make)";
        return CheckResult.fail(CHECK, detail, fix, true);
    }

    /**
     * What keeps {@code head} (the start of a file) from being a static x86-64 ELF executable, or empty when it
     * is one: a 64-bit little-endian ELF of type EXEC or DYN (static-pie) for x86-64 whose program headers have no
     * {@code PT_INTERP} (the dynamic loader a dynamically linked program names).
     */
    static Optional<String> staticExecutableProblem(byte[] head) {
        if (head.length < 64 || head[0] != 0x7f || head[1] != 'E' || head[2] != 'L' || head[3] != 'F') {
            return Optional.of("not an ELF executable");
        }
        if (head[4] != 2 || head[5] != 1) {
            return Optional.of("not a 64-bit little-endian ELF");
        }
        ByteBuffer elf = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        int type = Short.toUnsignedInt(elf.getShort(16));
        if (type != ET_EXEC && type != ET_DYN) {
            return Optional.of("an ELF file but not an executable (e_type " + type + ")");
        }
        int machine = Short.toUnsignedInt(elf.getShort(18));
        if (machine != EM_X86_64) {
            return Optional.of("not built for x86-64 (e_machine " + machine + ")");
        }
        long phoff = elf.getLong(32);
        int phentsize = Short.toUnsignedInt(elf.getShort(54));
        int phnum = Short.toUnsignedInt(elf.getShort(56));
        if (phentsize < 4 || phoff < 0 || phoff + (long) phentsize * phnum > head.length) {
            return Optional.of("an ELF whose program headers cannot be read");
        }
        for (int i = 0; i < phnum; i++) {
            if (elf.getInt((int) phoff + i * phentsize) == PT_INTERP) {
                return Optional.of("dynamically linked (it names a program interpreter), not static");
            }
        }
        return Optional.empty();
    }
}
