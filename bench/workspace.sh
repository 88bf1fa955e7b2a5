#!/usr/bin/env bash
# Workspace copy-in (issue 6): `vm run --rm -- true` from git repositories of growing size, minus the same run
# with an empty repository; shows whether copy-in grows linearly. Sizes in MiB of committed random data.
# Usage: bench/workspace.sh [SIZES...]   (default: 50 100 200)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-50 100 200}")
[ $# -eq 0 ] && sizes=(50 100 200)
cache=${BANGER_TEST_CACHE:-$HOME/.cache/banger-test}
deb=$(ls "$cache"/linux-image-*cloud-amd64*.deb | head -1)
rootfs=$cache/busybox-rootfs-v1.ext4
[ -f target/banger.jar ] || mvn -B -q package -DskipTests
root=$(pwd)
work=$(mktemp -d /tmp/banger-bench.XXXXXX)
ns="bgws$$"
export BANGER_HOME="$work/home"
ip netns add "$ns"; ip netns exec "$ns" ip link set lo up
b() { ip netns exec "$ns" "$root/bin/banger" "$@"; }
cleanup() { b daemon stop >/dev/null 2>&1 || true; pkill -f "$work" 2>/dev/null || true; ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
now_ms() { /usr/bin/python3 -c 'import time; print(int(time.monotonic()*1000))'; }
b kernel import k --deb "$deb" >/dev/null 2>&1
b image register bb --rootfs "$rootfs" >/dev/null

make_repo() {   # make_repo DIR MIB: a repository with MIB MiB of 1 MiB files, committed
    mkdir -p "$1"; git -C "$1" init -q
    for i in $(seq 1 "$2"); do head -c 1048576 /dev/urandom > "$1/f$i.bin"; done
    git -C "$1" add . && git -C "$1" -c user.name=b -c user.email=b@b commit -qm data
}
run_in() {   # ms for vm run --rm -- true in DIR, with a disk big enough for the repository
    local t0; t0=$(now_ms)
    (cd "$1" && b vm run --rm --memory 256M --disk "$2" -- true >/dev/null 2>&1)
    echo $(( $(now_ms) - t0 ))
}
make_repo "$work/empty" 0 2>/dev/null || { mkdir -p "$work/empty"; git -C "$work/empty" init -q; }
base=$(run_in "$work/empty" 256M); base2=$(run_in "$work/empty" 256M)
base=$(( (base + base2) / 2 ))
echo "empty repository: ${base} ms (the boot; subtracted below)"
for mib in "${sizes[@]}"; do
    make_repo "$work/r$mib" "$mib"
    disk=$(( mib * 3 + 256 ))M   # working tree + a clone's objects + headroom
    t=$(run_in "$work/r$mib" "$disk")
    echo "$mib MiB repository: $t ms total, $(( t - base )) ms for the workspace ($(( (t - base) / mib )) ms/MiB)"
    rm -rf "$work/r$mib"
done
