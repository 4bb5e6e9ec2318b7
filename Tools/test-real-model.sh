#!/usr/bin/env bash
# The real-model test tier: fetches SmolLM2-135M-Instruct (Tools/fetch-model.sh) and runs the
# RealModelTests and PoCRealModelTests suites against it (tokenization, logits vs a numpy reference, greedy "Paris",
# scoring, PoC vectors). Extra arguments go to `swift build` (e.g. -c release).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="$(Tools/fetch-model.sh)"
swift build --build-tests "$@"
CHORUS_MODEL_TESTS=1 CHORUS_MODEL_PATH="$MODEL" swift test --skip-build --disable-xctest --filter "RealModelTests|PoCRealModelTests|WorkerCLIRealModelTests|WorkerBackendRealModelTests" "$@"
