#include "machine.h"

#include <string.h>

struct machine_choice machine_choose(enum agent_exit want, const char *halt, int acpi)
{
    if (want == AGENT_EXIT_REBOOT)
        return (struct machine_choice){ MACHINE_REBOOT, "reboot requested" };
    if (halt && strcmp(halt, "reboot") == 0)
        return (struct machine_choice){ MACHINE_REBOOT,
                                        HALT_KEY "=reboot: the VMM has no power-off and exits on reboot" };
    if (!acpi)
        return (struct machine_choice){ MACHINE_REBOOT,
                                        "no ACPI: a power-off would only halt; the VMM exits on reboot" };
    return (struct machine_choice){ MACHINE_POWER_OFF, "ACPI power-off" };
}
