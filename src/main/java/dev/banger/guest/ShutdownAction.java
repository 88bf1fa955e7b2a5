package dev.banger.guest;

/** What the guest does after stopping its processes and unmounting its disks. Either ends a banger VMM. */
public enum ShutdownAction {
    POWEROFF("poweroff"),
    REBOOT("reboot");

    private final String wireName;

    ShutdownAction(String wireName) {
        this.wireName = wireName;
    }

    String wireName() {
        return wireName;
    }
}
