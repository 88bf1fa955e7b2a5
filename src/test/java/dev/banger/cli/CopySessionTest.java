package dev.banger.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class CopySessionTest {

    @Test
    void aVmNameAndAnAbsolutePathMakeTheRemoteSide() {
        assertThat(CopySession.Location.parse("demo:/root/x")).isEqualTo(new CopySession.Location("demo", "/root/x"));
        assertThat(CopySession.Location.parse("./demo:/x")).isEqualTo(new CopySession.Location(null, "./demo:/x"));
        assertThat(CopySession.Location.parse("/tmp/a:b")).isEqualTo(new CopySession.Location(null, "/tmp/a:b"));
        assertThat(CopySession.Location.parse("Not_A_Vm:/x").remote()).isFalse();
    }

    @Test
    void aRelativePathInTheVmIsRefusedWithTheWayOut() {
        assertThatThrownBy(() -> CopySession.Location.parse("demo:relative"))
                .hasMessageContaining("must be absolute").hasMessageContaining("./demo:relative");
    }

    @Test
    void progressSaysNothingForSmallCopiesAndSumsUpLargeOnes() {
        StringWriter small = new StringWriter();
        CopySession.Progress quiet = new CopySession.Progress(new PrintWriter(small), false);
        quiet.add(1000);
        quiet.finish(1, 1000);
        assertThat(small.toString()).isEmpty();

        StringWriter large = new StringWriter();
        CopySession.Progress loud = new CopySession.Progress(new PrintWriter(large), true);
        loud.total(CopySession.PROGRESS_THRESHOLD * 2);
        loud.add(CopySession.PROGRESS_THRESHOLD + 1);
        loud.finish(3, CopySession.PROGRESS_THRESHOLD * 2);
        assertThat(large.toString()).contains("\rcopying 8.0 MiB / 16.0 MiB (50%)").contains("copied 3 files, 16.0 MiB in");
    }
}
