package dev.banger.util;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class UndoStackTest {

    private final List<String> ran = new ArrayList<>();

    @Test
    void unwind_runsTheCleanupsNewestFirst_once() {
        UndoStack undo = new UndoStack();
        undo.push("one", () -> ran.add("one"));
        undo.push("two", () -> ran.add("two"));
        undo.push("three", () -> ran.add("three"));
        RuntimeException failure = new RuntimeException("step 4 failed");

        undo.unwind(failure);
        undo.unwind(failure);

        assertThat(ran).containsExactly("three", "two", "one");
        assertThat(failure.getSuppressed()).isEmpty();
        assertThat(undo.isEmpty()).isTrue();
    }

    @Test
    void unwind_continuesPastAFailingCleanup_andAttachesItToTheFailure() {
        UndoStack undo = new UndoStack();
        undo.push("detach /dev/loop1", () -> ran.add("detach"));
        undo.push("remove banger-vm1", () -> {
            throw new IllegalStateException("Device or resource busy");
        });
        undo.push("delete cow", () -> ran.add("delete"));
        RuntimeException failure = new RuntimeException("boot failed");

        undo.unwind(failure);

        assertThat(ran).as("the cleanups after the failing one still ran").containsExactly("delete", "detach");
        assertThat(failure.getSuppressed()).hasSize(1);
        assertThat(failure.getSuppressed()[0])
                .isInstanceOf(UndoStack.CleanupFailedException.class)
                .hasMessage("undo failed: remove banger-vm1: Device or resource busy")
                .hasCauseInstanceOf(IllegalStateException.class);
    }

    @Test
    void commit_forgetsTheCleanupsWithoutRunningThem() {
        UndoStack undo = new UndoStack();
        undo.push("one", () -> ran.add("one"));

        undo.commit();
        undo.unwind(new RuntimeException("later failure of something else"));

        assertThat(ran).isEmpty();
        assertThat(undo.isEmpty()).isTrue();
    }
}
