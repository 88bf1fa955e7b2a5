/*
 * How banger-init ends the machine: which reboot(2) command a wanted power-off or reboot becomes
 * (docs/guest-boot.md, "Shutdown"). Apart from init.c so that agent mode can report the same choice on the host
 * (banger-init agent --guest-root DIR), where the guest tests and the fake Firecracker check it.
 */
#ifndef BANGER_MACHINE_H
#define BANGER_MACHINE_H

#include "agent.h"

/* Kernel command-line key: "reboot" ends a power-off with a reboot (set by banger for Firecracker guests). */
#define HALT_KEY "banger.halt"

enum machine_end {
    MACHINE_POWER_OFF, /* reboot(RB_POWER_OFF) */
    MACHINE_REBOOT,    /* reboot(RB_AUTOBOOT) */
};

struct machine_choice {
    enum machine_end end;
    const char *why; /* static text for the console line */
};

/*
 * want: what was asked (the shutdown op's action, SIGTERM, Ctrl-Alt-Del); halt: the value of banger.halt= or NULL;
 * acpi: whether /sys/firmware/acpi exists. A power-off halts the CPUs and ends the VMM only through ACPI power
 * management: without ACPI, or with banger.halt=reboot (Firecracker: ACPI tables since 1.8 but no ACPI power-off),
 * it becomes a reboot, on which the VMM exits.
 */
struct machine_choice machine_choose(enum agent_exit want, const char *halt, int acpi);

#endif
