#!/usr/bin/env bash
# CLI start-up of the installed package: median wall time of `banger vm list` (the package's native launcher, its
# jlink'd runtime and the class-data archive its postinst made) against a running daemon, next to a JVM that
# only prints hello (the floor for any JVM CLI, same JVM flags) and the build tree's bin/banger. Uses
# /usr/bin/banger when the package is installed; otherwise unpacks target/banger_*.deb into a temp dir and makes
# the archive there as postinst does (same files, another path). Needs hyperfine and the package
# (mvn -B -q package -DskipTests -Pdeb). Usage: bench/installed-startup.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
build="${BANGER_BUILD_DIR:-target}"
work=$(mktemp -d)
export BANGER_HOME="$work/home"

if dpkg-query -W -f='${Status}' banger 2>/dev/null | grep -q "install ok installed"; then
    banger=/usr/bin/banger
    where="installed package"
else
    deb=$(ls "$build"/banger_*_amd64.deb 2>/dev/null | head -1 || true)
    if [ -z "$deb" ]; then
        echo "no package: build it with mvn -B -q package -DskipTests -Pdeb (or apt install it)" >&2
        exit 1
    fi
    dpkg-deb -x "$deb" "$work/root"
    "$work/root/usr/lib/banger/bin/banger-class-data" >/dev/null
    banger="$work/root/usr/bin/banger"
    where="$deb unpacked"
fi
trap '"$banger" daemon stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

mkdir -p "$work/hello"
cat > "$work/hello/Hello.java" <<'JAVA'
public class Hello { public static void main(String[] a) { System.out.println("hello"); } }
JAVA
javac -d "$work/hello" "$work/hello/Hello.java"
flags="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto"

"$banger" daemon start >/dev/null
# Three VM records to list, as bench/cli-startup.sh (kernel and image from the test cache; never booted).
cache=${BANGER_TEST_CACHE:-$HOME/.cache/banger-test}
"$banger" kernel import bench --deb "$(ls "$cache"/linux-image-*cloud-amd64*.deb | head -1)" >/dev/null 2>&1
"$banger" image register bench --rootfs "$cache/busybox-rootfs-v1.ext4" >/dev/null
for i in 1 2 3; do "$banger" vm create --no-start --disk 64M "bench-$i" >/dev/null 2>&1; done

hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/result.json" \
    -n hello-jvm "java $flags -cp $work/hello Hello" \
    -n "banger vm list (package)" "$banger vm list" \
    -n "banger vm list (build tree)" "bin/banger vm list" >/dev/null

echo "launcher: $banger ($where)"
/usr/bin/python3 - "$work/result.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
floor = results[0]["median"]
for r in results:
    print(f'{r["command"]:<30} median {r["median"]*1000:7.1f} ms   {r["median"]/floor:4.2f}x the hello floor')
PY
