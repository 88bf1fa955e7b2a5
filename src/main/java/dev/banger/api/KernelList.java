package dev.banger.api;

import java.util.List;

public record KernelList(List<KernelView> kernels) {
}
