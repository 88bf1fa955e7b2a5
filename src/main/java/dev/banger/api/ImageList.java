package dev.banger.api;

import java.util.List;

public record ImageList(List<ImageView> images) {
}
