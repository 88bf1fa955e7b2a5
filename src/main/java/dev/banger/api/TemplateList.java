package dev.banger.api;

import java.util.List;

public record TemplateList(List<TemplateView> templates) {
}
