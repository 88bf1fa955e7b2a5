package dev.banger.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SizesTest {

    @Test
    void parsesUnitsIntoMib() {
        assertThat(Sizes.parseMib("--memory", "512")).isEqualTo(512);
        assertThat(Sizes.parseMib("--memory", "512M")).isEqualTo(512);
        assertThat(Sizes.parseMib("--memory", "2G")).isEqualTo(2048);
        assertThat(Sizes.parseMib("--memory", "2GiB")).isEqualTo(2048);
        assertThat(Sizes.parseMib("--memory", "1.5g")).isEqualTo(1536);
        assertThat(Sizes.parseMib("--disk", "1T")).isEqualTo(1024 * 1024);
        assertThat(Sizes.parseMib("--disk", "1536K")).as("rounds up").isEqualTo(2);
        assertThat(Sizes.parseMib("--disk", "64MB")).isEqualTo(64);
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> Sizes.parseMib("--memory", "lots")).hasMessageContaining("--memory lots");
        assertThatThrownBy(() -> Sizes.parseMib("--memory", "5X")).hasMessageContaining("unknown unit 'X'");
        assertThatThrownBy(() -> Sizes.parseMib("--memory", "-1G")).hasMessageContaining("must be positive");
        assertThatThrownBy(() -> Sizes.parseMib("--memory", "")).hasMessageContaining("needs a size");
    }

    @Test
    void formatsForPeople() {
        assertThat(Sizes.formatMib(512)).isEqualTo("512M");
        assertThat(Sizes.formatMib(1024)).isEqualTo("1G");
        assertThat(Sizes.formatMib(1536)).isEqualTo("1.5G");
    }

    @Test
    void formatsBytesInBinaryUnits() {
        assertThat(Sizes.formatBytes(0)).isEqualTo("0B");
        assertThat(Sizes.formatBytes(512)).isEqualTo("512B");
        assertThat(Sizes.formatBytes(1024)).isEqualTo("1.0K");
        assertThat(Sizes.formatBytes(4096)).isEqualTo("4.0K");
        assertThat(Sizes.formatBytes(270_532_608)).isEqualTo("258M");
        assertThat(Sizes.formatBytes(2_650_800_128L)).as("the size issue 10 saw raw").isEqualTo("2.5G");
        assertThat(Sizes.formatBytes((1L << 30) - 1)).as("rounds up into the next unit").isEqualTo("1.0G");
        assertThat(Sizes.formatBytes(10L << 20)).isEqualTo("10M");
    }
}
