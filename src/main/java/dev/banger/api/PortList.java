package dev.banger.api;

import java.util.List;

public record PortList(List<PortView> ports) {
}
