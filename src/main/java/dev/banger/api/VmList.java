package dev.banger.api;

import java.util.List;

public record VmList(List<VmView> vms) {
}
