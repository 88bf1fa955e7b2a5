package dev.banger.testkit;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A throwaway system user (and its own group) for a test, optionally also in another group; {@link #close} removes
 * both. Needs root; names are unique per test run ({@code bgtNNNNNNNN}).
 */
public final class TestUser implements AutoCloseable {

    private final String name;

    private TestUser(String name) {
        this.name = name;
    }

    /** A new user with a group of its own name, and membership of {@code extraGroup} when not null. */
    public static TestUser create(String extraGroup) throws IOException {
        String name = uniqueName();
        HostCommands.run(List.of("groupadd", "--system", name));
        List<String> useradd = new ArrayList<>(List.of("useradd", "--system", "--no-create-home", "--home-dir",
                "/nonexistent", "--shell", "/usr/sbin/nologin", "--gid", name));
        if (extraGroup != null) {
            useradd.addAll(List.of("--groups", extraGroup));
        }
        useradd.add(name);
        try {
            HostCommands.run(useradd);
        } catch (IOException e) {
            HostCommands.runQuietly(List.of("groupdel", name));
            throw e;
        }
        return new TestUser(name);
    }

    /** A new group (removed by {@link #deleteGroup}). */
    public static String createGroup() throws IOException {
        String name = uniqueName();
        HostCommands.run(List.of("groupadd", "--system", name));
        return name;
    }

    public static void deleteGroup(String group) {
        HostCommands.runQuietly(List.of("groupdel", group));
    }

    private static String uniqueName() {
        return "bgt" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    }

    public String name() {
        return name;
    }

    /** {@code argv} run as this user: its uid, its group and its supplementary groups, no new privileges. */
    public List<String> as(List<String> argv) {
        List<String> all = new ArrayList<>(List.of("setpriv", "--reuid=" + name, "--regid=" + name,
                "--init-groups", "--no-new-privs", "--"));
        all.addAll(argv);
        return all;
    }

    @Override
    public void close() {
        HostCommands.runQuietly(List.of("userdel", name));
        HostCommands.runQuietly(List.of("groupdel", name));
    }

}
