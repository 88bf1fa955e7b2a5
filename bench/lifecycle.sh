#!/usr/bin/env bash
# Lifecycle benchmark (issue 4), inside a network namespace of its own:
#   - vm create --no-start time for a 64 MiB image and a 4 GiB (sparse) image: medians and ratio
#   - 8 VMs created (and booted) concurrently vs one: wall times, failures
#   - daemon RSS with 0 and with 8 running VMs
# Usage: bench/lifecycle.sh [RUNS]   (uses the test cache's kernel .deb, which `mvn verify` fills)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cache=${BANGER_TEST_CACHE:-$HOME/.cache/banger-test}
deb=$(ls "$cache"/linux-image-*cloud-amd64*.deb | head -1)
[ -f target/banger.jar ] || mvn -B -q package -DskipTests
work=$(mktemp -d /tmp/banger-bench.XXXXXX)
ns="bgbench$$"
export BANGER_HOME="$work/home"
ip netns add "$ns"; ip netns exec "$ns" ip link set lo up
b() { ip netns exec "$ns" bin/banger "$@"; }
cleanup() {
    b vm list --json 2>/dev/null | python3 -c 'import json,sys; [print(v["name"]) for v in json.load(sys.stdin)["vms"]]' \
        | xargs -r ip netns exec "$ns" bin/banger vm delete --force >/dev/null 2>&1 || true
    b daemon stop >/dev/null 2>&1 || true
    pkill -f "$work" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
now_ms() { /usr/bin/python3 -c 'import time; print(int(time.monotonic()*1000))'; }

b kernel import k --deb "$deb" >/dev/null 2>&1
# Two images with the same content, one 64 MiB and one 4 GiB (sparse).
mkdir -p "$work/tree/bin" && cp "$(command -v busybox)" "$work/tree/bin/"
for a in $(busybox --list-full); do mkdir -p "$work/tree/$(dirname "$a")"; ln -sf /bin/busybox "$work/tree/$a"; done
mkfs.ext4 -q -F -d "$work/tree" "$work/small.ext4" 64M >/dev/null 2>&1
mkfs.ext4 -q -F -d "$work/tree" "$work/big.ext4" 4G >/dev/null 2>&1
b image register small --rootfs "$work/small.ext4" >/dev/null
b image register big --rootfs "$work/big.ext4" >/dev/null

small=(); big=()
for i in $(seq 1 "$runs"); do
    for img in small big; do
        t0=$(now_ms); b vm create --no-start --image "$img" --disk 64M "c-$img-$i" >/dev/null 2>&1
        t=$(( $(now_ms) - t0 ))
        if [ "$img" = small ]; then small+=("$t"); else big+=("$t"); fi
        b vm delete "c-$img-$i" >/dev/null
    done
done

daemon_rss() {   # KiB, after a full GC so the heap holds only what is live
    local pid; pid=$(cat "$BANGER_HOME/state/bangerd.lock")
    jcmd "$pid" GC.run >/dev/null 2>&1 || true; sleep 1
    awk '/VmRSS/{print $2}' "/proc/$pid/status"
}
rss0=$(daemon_rss)

t0=$(now_ms); b vm create --image small --memory 256M --disk 64M single >/dev/null 2>&1; one=$(( $(now_ms) - t0 ))
b vm delete --force single >/dev/null
t0=$(now_ms)
pids=()
for i in $(seq 1 8); do
    ( b vm create --image small --memory 256M --disk 64M "p$i" >/dev/null 2>"$work/err$i" || echo "p$i failed: $(tail -1 "$work/err$i")" >> "$work/failures" ) &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
eight=$(( $(now_ms) - t0 ))
running=$(b vm list --json | python3 -c 'import json,sys; print(sum(1 for v in json.load(sys.stdin)["vms"] if v["state"]=="running"))')
rss8=$(daemon_rss)

python3 - "${small[*]}" "${big[*]}" "$one" "$eight" "$running" "$rss0" "$rss8" "$(cat "$work/failures" 2>/dev/null | wc -l)" <<'PY'
import statistics, sys
small = [int(x) for x in sys.argv[1].split()]; big = [int(x) for x in sys.argv[2].split()]
one, eight, running, rss0, rss8, failures = (int(x) for x in sys.argv[3:9])
ms, mb = statistics.median(small), statistics.median(big)
print(f"vm create --no-start, 64 MiB image : median {ms:6.0f} ms  runs {small}")
print(f"vm create --no-start, 4 GiB image  : median {mb:6.0f} ms  runs {big}")
print(f"  ratio 4 GiB / 64 MiB             : {mb/ms:.2f}")
print(f"one VM created and booted          : {one} ms")
print(f"8 VMs created and booted at once   : {eight} ms wall ({eight/one:.2f}x one), {running}/8 running, {failures} failures")
print(f"daemon RSS: {rss0/1024:.1f} MiB with 0 VMs, {rss8/1024:.1f} MiB with {running} running: "
      f"{(rss8-rss0)/1024/max(running,1):.2f} MiB per VM")
PY
