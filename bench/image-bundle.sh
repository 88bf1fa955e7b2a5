#!/bin/sh
# Benchmark: image export and image import of a real root disk (a debootstrap minbase tree from the test cache in a
# 1.5 GB ext4, mostly empty as pulled disks are), next to `zstd -3` and `sha256sum` of the same disk; medians of N
# runs (default 3). Needs root, mkfs.ext4, zstd (and debootstrap the first time, to build the cached tree).
# Usage: bench/image-bundle.sh [RUNS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mvn -B -q -o test-compile -Dbuild.dir="$root/target" >/dev/null
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
exec java -cp "$root/target/test-classes:$root/target/classes:$(cat "$cp_file")" \
    dev.banger.image.bundle.ImageBundleBench "${1:-3}"
