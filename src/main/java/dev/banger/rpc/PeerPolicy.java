package dev.banger.rpc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import jdk.net.UnixDomainPrincipal;

/**
 * Who may talk to the daemon: its own user and root; with a configured socket group, also members of that group
 * (the peer's primary group, or a supplementary group of its user as {@code id -G} lists them, i.e. getgrouplist).
 * The socket's mode keeps others out at connect time; this check is what decides, so a socket reachable by more
 * users than intended still serves only these.
 */
public final class PeerPolicy {

    /** Group lists are looked up at most this often per user (a connection flood spawns no process per connection). */
    static final long MEMBERSHIP_TTL_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** The numeric group ids of a user (getgrouplist: primary and supplementary); empty when there is no such user. */
    @FunctionalInterface
    public interface GroupLookup {
        List<Long> groupIdsOf(String user);
    }

    /** The socket group: its name and gid. */
    public record SocketGroup(GroupPrincipal principal, long gid) {
    }

    private record Membership(boolean member, long lookedUpAt) {
    }

    private final UserPrincipal owner;
    private final UserPrincipal root;
    private final Optional<SocketGroup> group;
    private final GroupLookup lookup;
    private final ConcurrentHashMap<String, Membership> memberships = new ConcurrentHashMap<>();

    PeerPolicy(UserPrincipal owner, UserPrincipal root, Optional<SocketGroup> group, GroupLookup lookup) {
        this.owner = owner;
        this.root = root;
        this.group = group;
        this.lookup = lookup;
    }

    /**
     * The policy for this process's user, with an optional socket group name.
     *
     * @throws IOException naming the group when it does not exist
     */
    public static PeerPolicy forCurrentUser(Optional<String> groupName) throws IOException {
        UserPrincipalLookupService principals = FileSystems.getDefault().getUserPrincipalLookupService();
        UserPrincipal me = Files.getOwner(Path.of("/proc/self"));
        UserPrincipal root = principals.lookupPrincipalByName("root");
        Optional<SocketGroup> group = Optional.empty();
        if (groupName.isPresent()) {
            GroupPrincipal principal;
            try {
                principal = principals.lookupPrincipalByGroupName(groupName.get());
            } catch (IOException e) {
                throw new IOException("socketGroup '" + groupName.get() + "' in config.json is not a group on this "
                        + "host; create it (groupadd " + groupName.get() + ") or remove the setting");
            }
            group = Optional.of(new SocketGroup(principal, gidOf(groupName.get())));
        }
        return new PeerPolicy(me, root, group, PeerPolicy::idGroups);
    }

    public Optional<GroupPrincipal> group() {
        return group.map(SocketGroup::principal);
    }

    /** The peer as a call sees it, or empty when it may not use the daemon. */
    public Optional<Peer> admit(UnixDomainPrincipal peer) {
        String name = peer.user().getName();
        String primary = peer.group().getName();
        if (owner.equals(peer.user()) || root.equals(peer.user())) {
            return Optional.of(new Peer(name, primary, true));
        }
        if (group.isEmpty()) {
            return Optional.empty();
        }
        if (group.get().principal().equals(peer.group()) || isMember(name)) {
            return Optional.of(new Peer(name, primary, false));
        }
        return Optional.empty();
    }

    private boolean isMember(String user) {
        long now = System.nanoTime();
        Membership known = memberships.get(user);
        if (known != null && now - known.lookedUpAt() < MEMBERSHIP_TTL_NANOS) {
            return known.member();
        }
        boolean member = lookup.groupIdsOf(user).contains(group.get().gid());
        if (memberships.size() > 1024) {
            memberships.clear();
        }
        memberships.put(user, new Membership(member, now));
        return member;
    }

    public String describe() {
        return "user " + owner.getName() + ", root" + group.map(g -> " and group " + g.principal().getName())
                .orElse("");
    }

    /** getgrouplist through {@code id -G} (glibc's NSS, so LDAP and sssd groups count too). */
    static List<Long> idGroups(String user) {
        String out = run("id", "-G", "--", user);
        if (out == null || out.isBlank()) {
            return List.of();
        }
        return java.util.Arrays.stream(out.strip().split("\\s+")).map(Long::parseLong).toList();
    }

    private static long gidOf(String groupName) throws IOException {
        String line = run("getent", "group", "--", groupName);
        String[] fields = line == null ? new String[0] : line.strip().split(":");
        if (fields.length < 3) {
            throw new IOException("cannot find the gid of socketGroup '" + groupName + "' (getent group)");
        }
        try {
            return Long.parseLong(fields[2]);
        } catch (NumberFormatException e) {
            throw new IOException("getent group " + groupName + " gave no gid: " + line.strip());
        }
    }

    /** The program's standard output, or null when it fails. No shell: the user name is one argument. */
    private static String run(String... argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(false)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readNBytes(64 * 1024);
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            return p.exitValue() == 0 ? new String(out, StandardCharsets.UTF_8) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
