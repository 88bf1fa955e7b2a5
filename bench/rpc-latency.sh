#!/usr/bin/env bash
# RPC round-trip latency inside one JVM (real daemon, real socket, vm.list of 10 records).
# Usage: bench/rpc-latency.sh [CALLS]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q test-compile
mvn -B -q exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.banger.bench.RpcLatency \
    -Dexec.args="${1:-5000}" 2>&1 | grep -v '^\[\|^make'
