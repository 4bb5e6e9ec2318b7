#!/usr/bin/env bash
# Fuzzes the decoders a peer or a file reaches (Sources/ChorusFuzzTargets) with libFuzzer.
#
#   Tools/fuzz.sh [TARGET...] [--runs N | --seconds S]
#
# Builds `chorus-fuzz` instrumented (-sanitize=fuzzer, lld) into .build-fuzz, seeds a corpus per
# target in .build-fuzz/corpus/TARGET from Specs/vectors (`chorus-fuzz --seeds`), and runs each
# target for N executions (default 10,000,000) or S seconds. Prints executions, exec/s and seconds
# per target; exits non-zero if any target crashed, printing the crash file (.build-fuzz/crashes/).
# A crash input belongs in Tests/ChorusFuzzTests/Regressions/TARGET/ once the decoder is fixed.
# `chorus-fuzz --list` names the targets.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=""
SECONDS_LIMIT=""
TARGETS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --seconds) SECONDS_LIMIT="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        -*) echo "fuzz: error: unknown option '$1'" >&2; exit 2 ;;
        *) TARGETS+=("$1"); shift ;;
    esac
done
if [ -z "$RUNS" ] && [ -z "$SECONDS_LIMIT" ]; then RUNS=10000000; fi

Tools/install-deps.sh >/dev/null
# lld links the fuzzer (gold fails on it). Swift toolchains ship it; otherwise apt's lld.
if ! command -v ld.lld >/dev/null 2>&1; then
    if ! dpkg-query -W -f='${Status}' lld 2>/dev/null | grep -q "install ok installed"; then
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        $SUDO apt-get update -qq && $SUDO apt-get install -y -qq lld clang
    fi
fi

echo "fuzz: building chorus-fuzz with -sanitize=fuzzer into .build-fuzz"
swift build -c release --product chorus-fuzz --build-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer -Xswiftc -use-ld=lld \
    -Xcc -fsanitize=fuzzer-no-link -Xcxx -fsanitize=fuzzer-no-link
BIN=.build-fuzz/release/chorus-fuzz

ALL=$("$BIN" --list | cut -f1)
if [ ${#TARGETS[@]} -eq 0 ]; then
    # shellcheck disable=SC2206
    TARGETS=($ALL)
fi
for t in "${TARGETS[@]}"; do
    grep -qx "$t" <<<"$ALL" || { echo "fuzz: error: unknown target '$t' (known: $(echo $ALL))" >&2; exit 2; }
done

mkdir -p .build-fuzz/crashes .build-fuzz/logs
LIMITS=()
[ -n "$RUNS" ] && LIMITS+=("-runs=$RUNS")
[ -n "$SECONDS_LIMIT" ] && LIMITS+=("-max_total_time=$SECONDS_LIMIT")

SUMMARY=()
FAILED=0
for t in "${TARGETS[@]}"; do
    corpus=.build-fuzz/corpus/$t
    "$BIN" --seeds "$t" "$corpus" >/dev/null
    log=.build-fuzz/logs/$t.log
    echo "fuzz: $t (${LIMITS[*]}), corpus $corpus, log $log"
    start=$(date +%s)
    set +e
    # SWIFT_BACKTRACE=enable=no: otherwise Swift's backtracer takes the trap and libFuzzer writes no crash file.
    SWIFT_BACKTRACE=enable=no "$BIN" "$t" "$corpus" "${LIMITS[@]}" -timeout=10 -print_final_stats=1 \
        -artifact_prefix=".build-fuzz/crashes/$t-" >"$log" 2>&1
    status=$?
    set -e
    elapsed=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    line=$(printf '%-16s %12s execs %9s exec/s %6ss' "$t" "${execs:-?}" "${rate:-?}" "$elapsed")
    if [ $status -ne 0 ]; then
        FAILED=1
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        grep -m1 -E "Fatal error|fuzz check failed|ERROR: libFuzzer|SUMMARY" "$log" || true
        line="$line  CRASH (exit $status): ${artifact:-see $log}"
    fi
    echo "$line"
    SUMMARY+=("$line")
done

echo
echo "fuzz: summary"
printf '  %s\n' "${SUMMARY[@]}"
if [ $FAILED -ne 0 ]; then
    echo "fuzz: crashes found: replay with .build/debug/chorus-fuzz TARGET FILE, add the file to Tests/ChorusFuzzTests/Regressions/TARGET/" >&2
    exit 1
fi
