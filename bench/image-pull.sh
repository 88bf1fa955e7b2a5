#!/bin/sh
# Benchmark: banger's pull + flatten + ext4 build of a ~100 MB image from a local docker-registry, against
# `skopeo copy docker://... oci:DIR` of the same image (median of N runs, default 3), and the bytes a second pull
# of an image sharing the base layer downloads. Needs root (ownership), docker-registry, skopeo, mkfs.ext4.
# Usage: bench/image-pull.sh [RUNS]   (BENCH_STEPS=1 prints the time of each pull stage)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mvn -B -q -o test-compile -Dbuild.dir="$root/target" >/dev/null
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
exec java -cp "$root/target/test-classes:$root/target/classes:$(cat "$cp_file")" \
    dev.banger.image.ImagePullBench "${1:-3}"
