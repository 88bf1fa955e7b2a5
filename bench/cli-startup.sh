#!/usr/bin/env bash
# CLI start-up: median wall time of `bin/banger vm list` against a running daemon (warm), next to a JVM that only
# prints hello (the floor for any JVM CLI) with the same JVM flags, and `bin/banger` without its class-data
# archive. Needs hyperfine (apt-get install hyperfine). Usage: bench/cli-startup.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
[ -f target/banger.jar ] || mvn -B -q package -DskipTests
work=$(mktemp -d)
export BANGER_HOME="$work/home"
trap 'bin/banger daemon stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

mkdir -p "$work/hello"
cat > "$work/hello/Hello.java" <<'JAVA'
public class Hello { public static void main(String[] a) { System.out.println("hello"); } }
JAVA
javac -d "$work/hello" "$work/hello/Hello.java"
flags="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto"

bin/banger daemon start >/dev/null
# Three VM records to list (a kernel and an image from the test cache, which `mvn verify` fills; never booted).
cache=${BANGER_TEST_CACHE:-$HOME/.cache/banger-test}
bin/banger kernel import bench --deb "$(ls "$cache"/linux-image-*cloud-amd64*.deb | head -1)" >/dev/null 2>&1
bin/banger image register bench --rootfs "$cache/busybox-rootfs-v1.ext4" >/dev/null
for i in 1 2 3; do bin/banger vm create --no-start --disk 64M "bench-$i" >/dev/null 2>&1; done

hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/result.json" \
    -n hello-jvm "java $flags -cp $work/hello Hello" \
    -n "banger vm list" "bin/banger vm list" \
    -n "banger vm list (no CDS)" "java $flags -cp target/banger.jar dev.banger.cli.BangerCli vm list" \
    -n "banger --version" "bin/banger --version" >/dev/null

python3 - "$work/result.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
floor = results[0]["median"]
for r in results:
    print(f'{r["command"]:<26} median {r["median"]*1000:7.1f} ms   {r["median"]/floor:4.2f}x the hello floor')
PY
