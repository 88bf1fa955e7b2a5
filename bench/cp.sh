#!/usr/bin/env bash
# vm cp throughput (issue 11): copies a 200 MiB tree of mixed sizes into a running VM and back out, RUNS times
# each way, and prints MiB/s (file contents over the CLI's wall time, JVM start included) with the median.
# The tree: 1 file of 64 MiB, 8 of 8 MiB, 48 of 1 MiB, 2048 of 4-20 KiB (24 MiB), in nested directories.
# With CP_SHAPE=one-file the tree is a single 200 MiB file instead (the transport without per-file work); with
# CP_SHAPE=small-files only the tree's 2048 small files (24 MiB: per-file work, the most of a source tree).
# Every run copies into a new directory on both sides and nothing is deleted until the end: right after a mass
# deletion, ext4's inode allocator skips the recently freed inodes one by one (recently_deleted() in perf; it
# took 35-55% of the CLI's time copying out after `rm -rf` of the last copy), a cost of the file system's history,
# not of the copy. On the host the tree and the copies live on a fresh ext4 the bench makes (a loop-mounted file),
# so earlier work on the host's disk does not count either.
# Usage: bench/cp.sh [RUNS]   (default 3)
# BANGER_BUILD_DIR picks the build to measure (default target/), e.g. an older commit built elsewhere;
# the kernel and rootfs come from the test cache (~/.cache/banger-test), which `mvn verify` fills.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
cache=${BANGER_TEST_CACHE:-$HOME/.cache/banger-test}
deb=$(ls "$cache"/linux-image-*cloud-amd64*.deb | head -1)
rootfs=$cache/busybox-rootfs-v1.ext4
build=${BANGER_BUILD_DIR:-target}
[ -f "$build/banger.jar" ] || { echo "no build in $build (mvn -B -q package -DskipTests)" >&2; exit 1; }
root=$(pwd)
work=$(mktemp -d /tmp/banger-bench-cp.XXXXXX)
ns="bgcp$$"
export BANGER_HOME="$work/home"
b() { ip netns exec "$ns" "$root/bin/banger" "$@"; }
cleanup() {
    b vm delete --force cp >/dev/null 2>&1 || true
    b daemon stop >/dev/null 2>&1 || true
    pkill -f "$work" 2>/dev/null || true
    umount "$work/fs" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/fs"
truncate -s $(( (runs + 5) * 256 ))M "$work/fs.img"
mkfs.ext4 -q "$work/fs.img"
mount -o loop "$work/fs.img" "$work/fs"
ip netns add "$ns"; ip netns exec "$ns" ip link set lo up
now_ms() { /usr/bin/python3 -c 'import time; print(int(time.monotonic()*1000))'; }

/usr/bin/python3 - "$work/fs/tree" "${CP_SHAPE:-mixed}" <<'EOF'
import os, random, sys
root, shape = sys.argv[1], sys.argv[2]
rnd = random.Random(11)
def put(rel, size):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(rnd.randbytes(n))
            left -= n
if shape == "one-file":
    put("big/one.bin", 200 << 20)
    sys.exit(0)
if shape != "small-files":
    put("big/one.bin", 64 << 20)
    for i in range(8):
        put(f"mid/m{i}.bin", 8 << 20)
    for i in range(48):
        put(f"small/d{i % 6}/s{i}.bin", 1 << 20)
small = 24 << 20
sizes = [rnd.randint(4096, 20480) for _ in range(2048)]
scale = small / sum(sizes)
for i, s in enumerate(sizes):
    put(f"src/p{i % 32}/q{i % 7}/f{i}.c", max(1, int(s * scale)))
EOF
mib=$(find "$work/fs/tree" -type f -printf '%s\n' \
    | awk '{s+=$1} END {printf "%.1f", s/1048576}')
files=$(find "$work/fs/tree" -type f | wc -l)
echo "tree: $files files, $mib MiB; build: $build"

b kernel import k --deb "$deb" >/dev/null 2>&1
b image register bb --rootfs "$rootfs" >/dev/null
b vm create --memory 512M --disk $(( (runs + 2) * 256 ))M cp >/dev/null 2>&1
# The first VM of an image is captured as a template in the background (builds that have templates): wait for
# it, so the capture's boot does not share the cores with the first copy.
if b template list >/dev/null 2>&1; then
    for _ in $(seq 1 60); do
        [ "$(b template list | wc -l)" -gt 1 ] && break
        sleep 1
    done
fi

rate() { /usr/bin/python3 -c "print(f'{$mib / ($1 / 1000):.1f}')"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Before each timed copy, what the last one left dirty is written back, in the guest and on the host, so the
# flushers' work for one run (the guest's 28 MiB of small files: ~0.2 s; the host's copy out) does not land in
# another's time.
settle() { b vm exec cp -- sync; sync; }
ins=(); outs=()
for r in $(seq 1 "$runs"); do
    settle
    t0=$(now_ms); b vm cp "$work/fs/tree" "cp:/root/in$r" 2>/dev/null; t=$(( $(now_ms) - t0 ))
    ins+=("$(rate "$t")")
    settle
    t0=$(now_ms); b vm cp "cp:/root/in$r" "$work/fs/out$r" 2>/dev/null; u=$(( $(now_ms) - t0 ))
    outs+=("$(rate "$u")")
    diff -r "$work/fs/tree" "$work/fs/out$r" >/dev/null || { echo "run $r: the copy out differs from the tree" >&2; exit 1; }
    echo "run $r: in ${t} ms (${ins[-1]} MiB/s), out ${u} ms (${outs[-1]} MiB/s)"
done
echo "median: in $(median "${ins[@]}") MiB/s, out $(median "${outs[@]}") MiB/s"
# What the host alone pays to write the tree where copies out go: a plain `cp -r` on the same file system (new
# page-cache pages for every byte, as a copy out needs too; on a host that is itself a VM they cost several times
# more once recently freed memory is used up). The floor under the "out" figures, not part of them.
floors=()
for r in 1 2 3; do
    sync
    t0=$(now_ms); cp -r "$work/fs/tree" "$work/fs/floor$r"; floors+=("$(( $(now_ms) - t0 ))")
done
echo "host floor: cp -r of the tree on the same file system: $(median "${floors[@]}") ms (median of 3)"
