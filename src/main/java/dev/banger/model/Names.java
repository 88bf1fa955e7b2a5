package dev.banger.model;

import java.util.regex.Pattern;

/** Names of VMs, images and kernels are DNS labels: they become {@code NAME.vm} host names and path parts. */
public final class Names {

    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    private Names() {
    }

    public static boolean isValid(String name) {
        return name != null && DNS_LABEL.matcher(name).matches();
    }

    /**
     * Returns {@code name} when it is a DNS label.
     *
     * @param kind what is being named ("VM", "image", "kernel"), for the message
     * @throws IllegalArgumentException with a one-line message saying what a valid name looks like
     */
    public static String requireValid(String kind, String name) {
        if (!isValid(name)) {
            throw new IllegalArgumentException("invalid " + kind + " name " + quote(name)
                    + ": use 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit");
        }
        return name;
    }

    private static String quote(String s) {
        return s == null ? "(none)" : "'" + s + "'";
    }
}
