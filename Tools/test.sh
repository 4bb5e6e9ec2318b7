#!/usr/bin/env bash
# The default test run: installs system packages if missing, builds, runs every Swift Testing suite.
# Slow suites (real model, network lab, fuzzing, Python interop) have their own commands; see README.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/install-deps.sh
swift build --build-tests "$@"
# Two processes: the CLI suites start real chorus/chorusd processes and wait for them synchronously,
# which holds threads of the cooperative pool (2 on a 2-core machine); in their own process they
# cannot stall the in-process suites' deadlines.
swift test --skip-build --disable-xctest --skip ChorusCLITests "$@"
swift test --skip-build --disable-xctest --filter ChorusCLITests "$@"
