package dev.banger.vmm.firecracker;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BootArgsTest {

    @Test
    void build_addsFirecrackersParameters_andSwitchesTheAgentToVsock() {
        String args = BootArgs.build("console=ttyS0 quiet panic=-1 banger.root=/dev/vda "
                + "banger.agent=serial:banger.agent", 1024);

        assertThat(args).isEqualTo("reboot=k pci=off i8042.noaux i8042.nomux i8042.dumbkbd banger.halt=reboot "
                + "console=ttyS0 quiet panic=-1 banger.root=/dev/vda banger.agent=vsock:1024");
    }

    @Test
    void build_neverHidesTheAcpiKeyboard() {
        // i8042.nopnp makes an ACPI kernel skip the keyboard Firecracker describes in ACPI: no Ctrl-Alt-Del.
        assertThat(BootArgs.split(BootArgs.build("console=ttyS0", 1024))).noneMatch(p -> p.startsWith("i8042.nopnp"))
                .contains("reboot=k", "i8042.dumbkbd");
    }

    @Test
    void build_forcesARebootForPowerOff_overTheSpecsHaltKey() {
        // Firecracker has no ACPI power-off: a halted guest would leave the process running.
        assertThat(BootArgs.split(BootArgs.build("banger.halt=poweroff quiet -- banger.halt=x", 1024)))
                .containsSubsequence("banger.halt=reboot", "quiet", "--", "banger.halt=x")
                .doesNotContain("banger.halt=poweroff")
                .filteredOn(p -> p.startsWith("banger.halt=reboot")).hasSize(1);
    }

    @Test
    void build_addsTheAgentWhenTheLineHasNone_andKeepsInitArgumentsLast() {
        String args = BootArgs.build("quiet -- banger.agent=x single", 1024);

        assertThat(BootArgs.split(args)).startsWith("console=ttyS0", "reboot=k", "panic=1", "pci=off")
                .contains("banger.agent=vsock:1024")
                .endsWith("quiet", "--", "banger.agent=x", "single")
                .as("parameters after -- belong to init and are left alone").doesNotContain("panic=-1");
    }

    @Test
    void split_keepsQuotedValuesWhole() {
        assertThat(BootArgs.split("  a=\"x y\"  b ")).containsExactly("a=\"x y\"", "b");
    }
}
