package dev.banger.store;

/** One schema step. Version 1 is the baseline; later steps only ever append. */
record Migration(int version, String description, String sql) {
}
