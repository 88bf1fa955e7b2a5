#!/bin/sh
# Benchmark: banger's pull + flatten + ext4 build of a real distribution image (a debootstrap minbase tree as the
# base layer plus a top layer with a whiteout, an opaque dir, a file capability, hardlinks, a setuid binary and a
# FIFO: the image RealImageIT boots) from a local docker-registry, against `skopeo copy docker://... oci:DIR` of
# the same image, median of N runs (default 3), with the median time of each of banger's stages. The base layer is
# built once per test cache (debootstrap from the host's Debian mirror). Needs root, docker-registry, skopeo,
# debootstrap, setcap (libcap2-bin), mkfs.ext4.
# Usage: bench/image-pull-debian.sh [RUNS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mvn -B -q -o test-compile -Dbuild.dir="$root/target" >/dev/null
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
exec java -cp "$root/target/test-classes:$root/target/classes:$(cat "$cp_file")" \
    dev.banger.image.ImagePullBench debian "${1:-3}"
