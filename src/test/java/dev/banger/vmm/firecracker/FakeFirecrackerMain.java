package dev.banger.vmm.firecracker;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@link FakeFirecracker} as a process, so {@code FirecrackerDriver} can launch it as it launches firecracker. A
 * test writes a {@code firecracker} script into a temp directory that execs this class with the fake's own
 * options first ({@code --fake-record FILE}, {@code --fake-guest BANGER_INIT}, {@code --fake-guest-dir DIR},
 * {@code --fake-taps a,b}) followed by the driver's arguments, of which it accepts what Firecracker accepts and the
 * driver uses: {@code --api-sock PATH}, {@code --id ID} (1-64 letters, digits, '-') and {@code --version}.
 * Anything else is refused the way Firecracker refuses an unknown argument. The guest console (Firecracker's
 * stdout) is this process's stdout. The process exits 0 when the guest reboots (not when it halts), 1 after a
 * snapshot load failed half-way (as Firecracker does), and like Firecracker on SIGTERM.
 */
public final class FakeFirecrackerMain {

    private static final Pattern INSTANCE_ID = Pattern.compile("[A-Za-z0-9-]{1,64}");

    private FakeFirecrackerMain() {
    }

    public static void main(String[] args) throws Exception {
        Path record = null;
        Path guest = null;
        Path guestDir = null;
        Set<String> taps = new HashSet<>();
        Path apiSock = null;
        String id = "anonymous-instance";
        List<String> argv = List.of(args);
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i);
            switch (a) {
                case "--fake-record" -> record = Path.of(argv.get(++i));
                case "--fake-guest" -> guest = Path.of(argv.get(++i));
                case "--fake-guest-dir" -> guestDir = Path.of(argv.get(++i));
                case "--fake-taps" -> taps.addAll(List.of(argv.get(++i).split(",")));
                case "--api-sock" -> apiSock = Path.of(value(argv, ++i, a));
                case "--id" -> id = value(argv, ++i, a);
                case "--version" -> {
                    System.out.println("Firecracker v" + FakeFirecracker.VERSION);
                    System.exit(0);
                }
                default -> fail("Arguments parsing error: Found argument '" + a
                        + "' which wasn't expected, or isn't valid in this context.");
            }
        }
        if (apiSock == null) {
            fail("fake Firecracker: --api-sock is required (the real default, /run/firecracker.socket, is not "
                    + "for tests)");
        }
        if (!INSTANCE_ID.matcher(id).matches()) {
            fail("Invalid instance ID: " + id);
        }
        FirecrackerApiSpec api = FirecrackerApiSpec.load();
        FakeFirecracker fake;
        try {
            fake = FakeFirecracker.start(new FakeFirecracker.Options(apiSock, id, api, record, guest, guestDir, taps,
                    System.out, code -> Runtime.getRuntime().halt(code)));
        } catch (java.io.IOException e) {
            fail(e.getMessage());
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(fake::close));
        Thread.currentThread().join();
    }

    private static String value(List<String> argv, int i, String option) {
        if (i >= argv.size()) {
            fail("Arguments parsing error: argument '" + option + "' requires a value");
        }
        return argv.get(i);
    }

    private static void fail(String message) {
        System.err.println(message);
        System.exit(1);
    }
}
