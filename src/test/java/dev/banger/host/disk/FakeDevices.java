package dev.banger.host.disk;

import static dev.banger.testkit.RecordingCommandRunner.failure;
import static dev.banger.testkit.RecordingCommandRunner.ok;

import dev.banger.host.Command;
import dev.banger.host.CommandResult;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The kernel's loop and device-mapper state as losetup and dmsetup show it, with their real error messages
 * (util-linux 2.38, dmsetup 1.02): the fallback answer of a recording runner, so "leaves nothing behind" is a
 * check of this state rather than of the command list alone.
 */
public final class FakeDevices implements Function<Command, CommandResult> {

    /** /dev/loop0 .. /dev/loop7 exist as nodes, like a host with the loop module loaded. */
    private static final int LOOP_NODES = 8;

    public final Map<String, String> loops = new TreeMap<>();
    public final Map<String, String> dm = new TreeMap<>();

    public boolean isEmpty() {
        return loops.isEmpty() && dm.isEmpty();
    }

    /** Attaches a loop as someone else's program would. */
    public String attachElsewhere(String backingFile) {
        String device = freeLoop();
        loops.put(device, backingFile);
        return device;
    }

    @Override
    public CommandResult apply(Command command) {
        List<String> argv = command.argv();
        String program = argv.get(0);
        if (program.equals("losetup") && argv.equals(List.of("losetup", "--find"))) {
            return ok(freeLoop() + "\n");
        }
        if (program.equals("losetup") && argv.get(argv.size() - 2).startsWith("/dev/loop")) {
            String device = argv.get(argv.size() - 2);
            String file = argv.get(argv.size() - 1);
            if (loops.containsKey(device)) {
                return failure(1, "losetup: " + file + ": failed to set up loop device: Device or resource busy\n");
            }
            loops.put(device, file);
            return ok("");
        }
        if (program.equals("losetup") && argv.get(1).equals("--find")) {
            String file = argv.get(argv.size() - 1);
            String device = freeLoop();
            loops.put(device, file);
            return ok(device + "\n");
        }
        if (program.equals("losetup") && argv.get(1).equals("--noheadings")) {
            String device = argv.get(argv.size() - 1);
            if (!exists(device)) {
                return failure(1, "losetup: " + device + ": failed to use device: No such device\n");
            }
            return ok(loops.containsKey(device) ? loops.get(device) + "\n" : "\n");
        }
        if (program.equals("losetup") && argv.get(1).equals("--detach")) {
            String device = argv.get(2);
            if (!exists(device)) {
                return failure(1, "losetup: " + device + ": failed to use device: No such device\n");
            }
            if (loops.remove(device) == null) {
                return failure(1, "losetup: " + device + ": detach failed: No such device or address\n");
            }
            return ok("");
        }
        if (program.equals("dmsetup") && argv.get(1).equals("create")) {
            String name = argv.get(2);
            if (dm.containsKey(name)) {
                return failure(1, "device-mapper: create ioctl on " + name + "  failed: Device or resource busy\n"
                        + "Command failed.\n");
            }
            dm.put(name, argv.get(4));
            return ok("");
        }
        if (program.equals("dmsetup") && argv.get(1).equals("remove")) {
            String name = argv.get(2);
            if (dm.remove(name) == null) {
                return failure(1, "Device " + name + " not found\nCommand failed.\n");
            }
            return ok("");
        }
        throw new AssertionError("unexpected command: " + command.display());
    }

    private String freeLoop() {
        for (int i = 0; ; i++) {
            String device = "/dev/loop" + i;
            if (!loops.containsKey(device)) {
                return device;
            }
        }
    }

    private static boolean exists(String device) {
        return device.startsWith("/dev/loop")
                && Integer.parseInt(device.substring("/dev/loop".length())) < LOOP_NODES;
    }
}
