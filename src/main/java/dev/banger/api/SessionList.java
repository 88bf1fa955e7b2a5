package dev.banger.api;

import java.util.List;

public record SessionList(List<SessionView> sessions) {
}
