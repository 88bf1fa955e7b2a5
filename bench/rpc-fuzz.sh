#!/bin/sh
# Fuzz: N fuzzed RPC connections (default 100000) against an RpcServer serving every API method in one JVM
# (handlers decode the real request types, then fail: nothing acts). Prints the outcome; exits non-zero when a
# connection got neither an error frame nor a close, anything was logged as an error or with an exception, or the
# server's threads did not return to their baseline or its heap grew (the resident set is reported beside it). The
# unit suite runs 10^4 (RpcFuzzTest).
# Usage: bench/rpc-fuzz.sh [CONNECTIONS] [CLIENT_THREADS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build="${BANGER_BUILD_DIR:-$root/target}"
mvn -B -q -o test-compile -Dbuild.dir="$build" >/dev/null
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
mvn -B -q -o dependency:build-classpath -Dbuild.dir="$build" -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
exec java -cp "$build/test-classes:$build/classes:$(cat "$cp_file")" \
    dev.banger.rpc.RpcFuzz "${1:-100000}" "${2:-8}"
