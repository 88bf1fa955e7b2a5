package dev.banger.api;

import java.util.List;

public record VmDeleteResult(List<String> deleted) {
}
