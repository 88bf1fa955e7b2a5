package dev.banger.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The man pages the package ships, generated from the same picocli model as --help. */
class ManPagesTest {

    private final Map<String, String> pages = ManPages.pages();

    @Test
    void onePagePerCommandAndGroupNamedAsGitNamesItsPages() {
        assertThat(pages).containsKeys("banger", "banger-vm", "banger-vm-run", "banger-image-pull",
                "banger-ssh-config-install", "banger-doctor");
        assertThat(pages.keySet()).as("hidden commands get no page").doesNotContain("banger-vm-ssh-proxy");
    }

    @Test
    void aPageHoldsTheCommandsSynopsisDescriptionAndEveryOption() {
        String run = pages.get("banger-vm-run");

        assertThat(run).startsWith(".TH \"BANGER-VM-RUN\" 1 ");
        assertThat(run).contains(".SH NAME\nbanger\\-vm\\-run \\- Create and start a VM",
                ".SH SYNOPSIS\n.nf\nbanger vm run ", "\\fB\\-\\-rm\\fR\n", "\\fB\\-\\-image\\fR=\\fIIMAGE\\fR\n",
                ".SH ARGUMENTS\n.TP\n\\fICMD\\fR\n", ".SH SEE ALSO\n\\fBbanger\\-vm\\fR(1)\n");
        assertThat(pages.get("banger")).contains(".SH COMMANDS\n", "\\fBbanger\\-vm\\fR(1)\n");
        assertThat(pages.get("banger-vm")).contains("\\fBbanger\\-vm\\-run\\fR(1)\n");
    }

    @Test
    void textNeverStartsATroffRequest() {
        assertThat(ManPages.escape(".hidden")).isEqualTo("\\&.hidden");
        assertThat(ManPages.escape("a\\b-c")).isEqualTo("a\\eb\\-c");
        assertThat(ManPages.escape("one%ntwo")).isEqualTo("one\n\\&two".replace("\\&", ""));
        assertThat(ManPages.escape("x%n.y")).isEqualTo("x\n\\&.y");
    }
}
