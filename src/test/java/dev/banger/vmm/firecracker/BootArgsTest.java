package dev.banger.vmm.firecracker;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BootArgsTest {

    @Test
    void build_addsFirecrackersParameters_andSwitchesTheAgentToVsock() {
        String args = BootArgs.build("console=ttyS0 quiet panic=-1 banger.root=/dev/vda "
                + "banger.agent=serial:banger.agent", 1024);

        assertThat(args).isEqualTo("reboot=k pci=off i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd "
                + "console=ttyS0 quiet panic=-1 banger.root=/dev/vda banger.agent=vsock:1024");
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
