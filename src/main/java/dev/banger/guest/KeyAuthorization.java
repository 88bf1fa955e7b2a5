package dev.banger.guest;

/**
 * What an {@code ssh.authorize} changed in the guest's {@code /root/.ssh/authorized_keys}.
 *
 * @param added whether the key's line was added (false: a line already held the key)
 * @param removed how many lines with the same comment but another key (banger's earlier keys) were removed
 */
public record KeyAuthorization(boolean added, int removed) {
}
