#!/usr/bin/env bash
# Boot benchmark, same kernel + initramfs + rootfs for all three, runs interleaved:
#   (a) bare qemu-system-x86_64 (banger's command line, started by hand) to banger-init's "agent ready" marker
#   (b) `banger vm create` to agent-ready (CLI start to exit)
#   (c) `banger vm exec NAME -- true` on a running VM (CLI start to exit)
#   (d) `banger vm run --rm --no-workspace -- true` end to end (CLI start to exit: create, boot, exec, delete)
#   (b) and (d) boot with --cold; (e) and (f) are the same two commands restored from a template
#   (docs/snapshots.md), which the warm-up VM's boot builds in the background.
# Usage: bench/boot.sh [RUNS] [KERNEL.deb] [ROOTFS.ext4]
# Defaults use the test cache (~/.cache/banger-test), which `mvn verify` fills.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cache=${BANGER_TEST_CACHE:-$HOME/.cache/banger-test}
deb=${2:-$(ls "$cache"/linux-image-*cloud-amd64*.deb | head -1)}
rootfs=${3:-$cache/busybox-rootfs-v1.ext4}
[ -f target/banger.jar ] || mvn -B -q package -DskipTests
work=$(mktemp -d /tmp/banger-bench.XXXXXX)
export BANGER_HOME="$work/home"
cleanup() {
    bin/banger vm list --json 2>/dev/null | python3 -c 'import json,sys; [print(v["name"]) for v in json.load(sys.stdin)["vms"]]' \
        | xargs -r bin/banger vm delete --force >/dev/null 2>&1 || true
    bin/banger daemon stop >/dev/null 2>&1 || true
    pkill -f "$work" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

bin/banger kernel import bench --deb "$deb" >/dev/null 2>&1
bin/banger image register bench --rootfs "$rootfs" >/dev/null
t0=$(date +%s%N)
bin/banger vm create --memory 256M --disk 64M warmup >/dev/null 2>&1   # builds the initrd once, then the template
bin/banger vm delete --force warmup >/dev/null
until bin/banger template list --json | grep -q '"id"'; do sleep 0.2; done
template_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
template_du=$(bin/banger template list --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["templates"][0]["diskBytes"])')

kernel=$(bin/banger kernel show bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["kernelPath"])')
initrd=$(ls "$(dirname "$kernel")"/initrd-*.img | head -1)
mhz=$(awk '/cpu MHz/{print int($4); exit}' /proc/cpuinfo)

now_ms() { /usr/bin/python3 -c 'import time; print(int(time.monotonic()*1000))'; }

bare_boot() {   # prints ms from launch to the marker
    local d="$work/bare"; rm -rf "$d"; mkdir -p "$d"
    qemu-img create -q -f qcow2 -b "$rootfs" -F raw "$d/root.qcow2" >/dev/null
    mkfs.ext4 -q -F "$d/work.ext4" 64M >/dev/null 2>&1
    local t0; t0=$(now_ms)
    qemu-system-x86_64 -accel tcg -M microvm -m 256 -smp 2 -nodefaults -no-user-config -display none -no-reboot \
        -serial "file:$d/console.log" -kernel "$kernel" -initrd "$initrd" \
        -append "console=ttyS0 quiet panic=-1 banger.root=/dev/vda banger.work=/dev/vdb banger.hostname=bare banger.agent=serial:banger.agent tsc_early_khz=${mhz}000" \
        -device virtio-serial-device -chardev "socket,id=agent,path=$d/agent.sock,server=on,wait=off" \
        -device virtserialport,chardev=agent,name=banger.agent \
        -drive "id=root,file=$d/root.qcow2,format=qcow2,if=none" -device virtio-blk-device,drive=root \
        -drive "id=work,file=$d/work.ext4,format=raw,if=none" -device virtio-blk-device,drive=work &
    local qemu=$!
    until [ -f "$d/console.log" ]; do sleep 0.005; done
    timeout 120 tail -n +1 -f "$d/console.log" | grep -q -m1 "banger-init: agent ready"
    echo $(( $(now_ms) - t0 ))
    kill -9 $qemu; wait $qemu 2>/dev/null || true
}

banger_create() {   # prints ms for `banger vm create [--cold]` (the VM is deleted afterwards)
    local t0; t0=$(now_ms)
    bin/banger vm create $2 --memory 256M --disk 64M "b$1" >/dev/null 2>&1
    echo $(( $(now_ms) - t0 ))
    bin/banger vm delete --force "b$1" >/dev/null
}

banger_run() {   # prints ms for `banger vm run --rm [--cold] -- true` from a directory outside any git repository
    local t0; t0=$(now_ms)
    (cd "$work" && "$OLDPWD/bin/banger" vm run --rm --no-workspace $1 --memory 256M --disk 64M -- true >/dev/null 2>&1)
    echo $(( $(now_ms) - t0 ))
}

a=(); b=(); d=(); e=(); f=()
for i in $(seq 1 "$runs"); do
    a+=("$(bare_boot)")
    b+=("$(banger_create "$i" --cold)")
    d+=("$(banger_run --cold)")
    e+=("$(banger_create "r$i" "")")
    f+=("$(banger_run "")")
done

bin/banger vm create --memory 256M --disk 64M execbench >/dev/null 2>&1
c=()
for i in $(seq 1 $((runs * 4))); do
    t0=$(now_ms); bin/banger vm exec execbench -- true; c+=("$(( $(now_ms) - t0 ))")
done
mkdir -p "$work/hello"
echo 'public class Hello { public static void main(String[] a) { System.out.println("hello"); } }' > "$work/hello/Hello.java"
javac -d "$work/hello" "$work/hello/Hello.java"
h=()
for i in $(seq 1 $((runs * 4))); do
    t0=$(now_ms); java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -cp "$work/hello" Hello >/dev/null
    h+=("$(( $(now_ms) - t0 ))")
done
l=()
for i in $(seq 1 $((runs * 4))); do
    t0=$(now_ms); bin/banger vm list >/dev/null; l+=("$(( $(now_ms) - t0 ))")
done

rss_vms=8
for i in $(seq 1 $rss_vms); do bin/banger vm create --memory 256M --disk 64M "rss$i" >/dev/null 2>&1; done
daemon_pid=$(bin/banger daemon status --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["pid"])')
rss_kb=$(ps -o rss= -p "$daemon_pid" || echo 0)

/usr/bin/python3 - "${a[*]}" "${b[*]}" "${c[*]}" "${h[*]}" "${l[*]}" "${d[*]}" "${e[*]}" "${f[*]}" \
    "$template_ms" "$template_du" "$rss_kb" "$rss_vms" <<'PY'
import statistics, sys
a, b, c, h, l, d, e, f = ([int(x) for x in arg.split()] for arg in sys.argv[1:9])
template_ms, template_du, rss_kb, rss_vms = (int(x or 0) for x in sys.argv[9:13])
ma, mb, mc, mh, ml, md, me, mf = (statistics.median(x) for x in (a, b, c, h, l, d, e, f))
print(f"(a) bare qemu to agent-ready marker : median {ma:6.0f} ms  runs {a}")
print(f"(b) banger vm create to agent-ready  : median {mb:6.0f} ms  runs {b}")
print(f"    ratio b/a                         : {mb/ma:.2f}")
print(f"(c) banger vm exec -- true           : median {mc:6.0f} ms")
print(f"(d) banger vm run --rm -- true        : median {md:6.0f} ms  runs {d}")
print(f"    ratio d/a                         : {md/ma:.2f}")
print(f"    banger vm list (CLI + one RPC)   : median {ml:6.0f} ms")
print(f"    hello-world JVM (the floor)      : median {mh:6.0f} ms")
print(f"    exec beyond CLI start-up (c - list): {mc-ml:.0f} ms")
print(f"(e) vm create from a template        : median {me:6.0f} ms  runs {e}")
print(f"    ratio e/a (target <= 0.15)        : {me/ma:.2f}")
print(f"(f) vm run --rm -- true, template     : median {mf:6.0f} ms  runs {f}")
print(f"    ratio f/a (target <= 0.25)        : {mf/ma:.2f}")
print(f"    template: built {template_ms} ms after the first create; {template_du/1048576:.1f} MiB on disk")
print(f"    daemon RSS with {rss_vms} clones running : {rss_kb/1024:.0f} MiB")
PY
