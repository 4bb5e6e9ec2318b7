#!/usr/bin/env bash
# Worker conformance (slow tier): starts the Swift HTTP worker (`chorus worker serve`) and the
# Python reference worker (Tools/pyworker, numpy backend) on free loopback ports, then runs
# WorkerConformanceTests against both: the protocol checks on each worker, and cross-checks
# between them (PoC vectors within dist_threshold/10, greedy SmolLM2 tokens equal for a fixed
# prompt set, scoring similarity >= 0.999).
#
#   Tools/test-worker-conformance.sh              # synthetic models + SmolLM2 (fetched)
#   CHORUS_CONFORMANCE_NO_MODEL=1 Tools/test-worker-conformance.sh   # synthetic models only
#
# Needs python3 with numpy and gguf==0.19.0 (installed with pip when missing). Extra arguments
# go to `swift build` (e.g. -c release for a faster Swift worker).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

python3 -c 'import numpy, gguf' 2>/dev/null || python3 -m pip install --quiet numpy 'gguf==0.19.0'

MODEL=""
if [ -z "${CHORUS_CONFORMANCE_NO_MODEL:-}" ]; then
    MODEL="$(Tools/fetch-model.sh)"
fi

swift build --build-tests "$@"
BIN="$(swift build --show-bin-path "$@")"

LOGDIR="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$LOGDIR"
}
trap cleanup EXIT

# start_worker NAME VAR CMD...: starts CMD in the background and sets VAR to the URL from its
# `READY <url>` line (stdout goes to a file that is polled, so the worker never blocks on a pipe).
start_worker() {
    local name="$1" var="$2"; shift 2
    "$@" >"$LOGDIR/$name.out" 2>"$LOGDIR/$name.err" &
    PIDS+=("$!")
    local line="" waited=0
    while [ "$waited" -lt 600 ]; do
        line="$(head -n 1 "$LOGDIR/$name.out" 2>/dev/null || true)"
        [[ "$line" == READY\ * ]] && break
        sleep 0.2
        waited=$((waited + 1))
    done
    if [[ "$line" != READY\ * ]]; then
        echo "test-worker-conformance: $name did not start" >&2
        cat "$LOGDIR/$name.err" >&2
        exit 1
    fi
    printf -v "$var" '%s' "${line#READY }"
}

# Both workers and the test clients share one random bearer token (a TCP worker must have one).
CHORUS_WORKER_TOKEN="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export CHORUS_WORKER_TOKEN
start_worker swift SWIFT_URL "$BIN/chorus" worker serve --listen 127.0.0.1:0
start_worker python PY_URL bash -c 'cd "$1/Tools" && exec python3 -m pyworker serve --listen 127.0.0.1:0' _ "$ROOT"
echo "swift worker:  $SWIFT_URL" >&2
echo "python worker: $PY_URL" >&2

export CHORUS_CONFORMANCE_WORKERS="swift=$SWIFT_URL,python=$PY_URL"
if [ -n "$MODEL" ]; then export CHORUS_MODEL_PATH="$MODEL"; fi
swift test --skip-build --disable-xctest --filter WorkerConformanceTests "$@"
