package dev.banger.api;

import java.util.List;

/** A kernel as the CLI shows it, with the VMs that use it. */
public record KernelView(String name, String version, String source, String kernelPath, String modulesDir,
                         boolean isDefault, String createdAt, List<String> usedBy) {
}
