package dev.banger.rpc;

/**
 * Who is on the other end of a call, as the kernel reported it when the client connected.
 *
 * @param user the peer's user name (its uid when the user has no name)
 * @param group the peer's primary group name (its gid when the group has no name)
 * @param privileged the peer is root or the daemon's own user, so the daemon may open paths it names with the
 *     daemon's own privileges; any other peer (a member of the socket group) has its paths read as itself
 *     ({@code dev.banger.host.ClientFiles})
 */
public record Peer(String user, String group, boolean privileged) {

    /** The daemon itself: internal calls and calls with no client behind them. */
    public static final Peer INTERNAL = new Peer("(the daemon)", "(the daemon)", true);
}
