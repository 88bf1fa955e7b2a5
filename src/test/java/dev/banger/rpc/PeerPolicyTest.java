package dev.banger.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import jdk.net.UnixDomainPrincipal;
import org.junit.jupiter.api.Test;

/** Who gets in: the daemon's user and root always; others only as members of the socket group, by gid list. */
class PeerPolicyTest {

    private final UserPrincipalLookupService principals = FileSystems.getDefault().getUserPrincipalLookupService();
    private final List<String> lookups = new ArrayList<>();

    private UnixDomainPrincipal peer(String user, String primaryGroup) throws IOException {
        return new UnixDomainPrincipal(principals.lookupPrincipalByName(user),
                principals.lookupPrincipalByGroupName(primaryGroup));
    }

    private PeerPolicy policy(Optional<String> group, Map<String, List<Long>> gidLists) throws IOException {
        Optional<PeerPolicy.SocketGroup> socketGroup = Optional.empty();
        if (group.isPresent()) {
            GroupPrincipal principal = principals.lookupPrincipalByGroupName(group.get());
            socketGroup = Optional.of(new PeerPolicy.SocketGroup(principal, 4));
        }
        return new PeerPolicy(principals.lookupPrincipalByName("daemon"), principals.lookupPrincipalByName("root"),
                socketGroup, user -> {
                    lookups.add(user);
                    return gidLists.getOrDefault(user, List.of());
                });
    }

    @Test
    void withoutAGroupOnlyTheDaemonsUserAndRootGetIn() throws IOException {
        PeerPolicy policy = policy(Optional.empty(), Map.of("nobody", List.of(4L)));

        assertThat(policy.admit(peer("daemon", "daemon"))).contains(new Peer("daemon", "daemon", true));
        assertThat(policy.admit(peer("root", "root"))).contains(new Peer("root", "root", true));
        assertThat(policy.admit(peer("nobody", "nogroup"))).isEmpty();
        assertThat(lookups).isEmpty();
    }

    @Test
    void withAGroupMembersByGidListGetInUnprivilegedAndOthersDoNot() throws IOException {
        PeerPolicy policy = policy(Optional.of("adm"), Map.of("nobody", List.of(65534L, 4L), "bin", List.of(2L)));

        assertThat(policy.admit(peer("nobody", "nogroup"))).contains(new Peer("nobody", "nogroup", false));
        assertThat(policy.admit(peer("bin", "bin"))).isEmpty();
        assertThat(policy.admit(peer("sys", "adm"))).as("primary group at connect").contains(new Peer("sys", "adm", false));
        assertThat(policy.admit(peer("root", "root"))).contains(new Peer("root", "root", true));
    }

    @Test
    void gidListsAreLookedUpOncePerUserWithinTheirLifetime() throws IOException {
        PeerPolicy policy = policy(Optional.of("adm"), Map.of("nobody", List.of(4L)));
        for (int i = 0; i < 50; i++) {
            assertThat(policy.admit(peer("nobody", "nogroup"))).isPresent();
            assertThat(policy.admit(peer("bin", "bin"))).isEmpty();
        }
        assertThat(lookups).containsExactly("nobody", "bin");
    }

    @Test
    void idListsTheGroupsOfAUser() {
        assertThat(PeerPolicy.idGroups("root")).contains(0L);
        assertThat(PeerPolicy.idGroups("no-such-user-banger-test")).isEmpty();
    }
}
