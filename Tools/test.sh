#!/usr/bin/env bash
# The default test run: installs system packages if missing, builds, runs every Swift Testing suite.
# Slow suites (real model, network lab, fuzzing, Python interop) have their own commands; see README.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/install-deps.sh
swift build --build-tests "$@"
swift test --skip-build --disable-xctest "$@"
