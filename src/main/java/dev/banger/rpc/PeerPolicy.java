package dev.banger.rpc;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.Optional;

/**
 * Who may talk to the daemon: its own user and root; with a configured socket group, also members of that
 * group (the socket is then 0660 and the kernel has already checked membership at connect time, so any peer
 * that got through is accepted).
 */
public final class PeerPolicy {

    private final UserPrincipal owner;
    private final UserPrincipal root;
    private final Optional<GroupPrincipal> group;

    private PeerPolicy(UserPrincipal owner, UserPrincipal root, Optional<GroupPrincipal> group) {
        this.owner = owner;
        this.root = root;
        this.group = group;
    }

    /** The policy for this process's user, with an optional socket group name. */
    public static PeerPolicy forCurrentUser(Optional<String> groupName) throws IOException {
        UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
        UserPrincipal me = Files.getOwner(Path.of("/proc/self"));
        UserPrincipal root = lookup.lookupPrincipalByName("root");
        Optional<GroupPrincipal> group = groupName.isPresent()
                ? Optional.of(lookup.lookupPrincipalByGroupName(groupName.get())) : Optional.empty();
        return new PeerPolicy(me, root, group);
    }

    public Optional<GroupPrincipal> group() {
        return group;
    }

    public boolean allows(UserPrincipal peerUser) {
        return group.isPresent() || owner.equals(peerUser) || root.equals(peerUser);
    }

    public String describe() {
        return "user " + owner.getName() + group.map(g -> " or group " + g.getName()).orElse("");
    }
}
