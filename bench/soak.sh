#!/usr/bin/env bash
# Soak (issue 12): N random lifecycle operations (create with boot, create --no-start, start, stop, delete --force,
# exec, kill -9 of a VM's QEMU), about one in four alongside a kill -9 of the daemon at a random moment, each
# followed by a comparison of the daemon's records with the host (QEMU processes, taps, loop devices, VM and
# runtime dirs, handles files, /dev/shm); at the end every VM is deleted and the daemon stopped, and anything left
# is a leak. Runs in a network namespace and BANGER_HOME of its own (testkit.BangerHome; the soak is
# dev.banger.bench.Soak in the test sources). Needs root, QEMU, and the test cache's kernel .deb and busybox rootfs
# (made on first use, as `mvn verify` makes them).
# Prints each operation and every disagreement or leak, then as its last line: ops=N kills=K disagreements=D leaks=L
# and exits non-zero unless both are 0.
# Usage: bench/soak.sh [N] [SEED]     (N defaults to 200; the seed is printed first, so a run can be repeated)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BANGER_BUILD_DIR:-$PWD/target}
export BANGER_BUILD_DIR="$build"
if [ ! -f "$build/banger.jar" ] || [ ! -d "$build/test-classes/dev/banger/bench" ]; then
    mvn -B -q -Dbuild.dir="$build" package -DskipTests >&2
fi
java="${BANGER_JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/}java}"
exec "$java" -Dbanger.root="$PWD" -Dbanger.build.dir="$build" -Dbanger.init.binary="$build/guest/banger-init" \
    -cp "$build/banger.jar:$build/test-classes:$build/lib/*" dev.banger.bench.Soak "$@"
