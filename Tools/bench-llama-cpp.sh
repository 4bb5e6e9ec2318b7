#!/usr/bin/env bash
# Side-by-side CPU benchmark: llama.cpp (llama-cpp-python 0.3.36 from PyPI) and Chorus's built-in
# worker on the same GGUF (Tools/fetch-model.sh's SmolLM2-135M Q4_1) with the same thread count, in
# one run. Prints one JSON object (`chorus-bench worker --vs-llama-cpp --json`): decode and prefill
# tokens/s and resident memory of both, and Chorus over llama.cpp for each (targets: decode ≥ 1.0×,
# prefill ≥ 1.5×, Chorus RSS ≤ 250 MB).
#
#   Tools/bench-llama-cpp.sh [extra chorus-bench worker options, e.g. --bench-rounds 5]
#   THREADS=4 Tools/bench-llama-cpp.sh      # both sides on 4 threads (default 2)
#
# On a machine with more cores than THREADS both processes are pinned to cores 0..THREADS-1
# (taskset), so Chorus's own loops, which split over the cores of the process's affinity, and
# llama.cpp use the same cores.
#
# llama-cpp-python is an sdist (~8.5 min to build on 2 cores, once): it is installed idempotently
# into a venv under .build/llama-cpp-venv (ignored by git) with a CPU-only CMake build.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="0.3.36"
VENV="${CHORUS_LLAMA_CPP_VENV:-$PWD/.build/llama-cpp-venv}"
PY="$VENV/bin/python"

installed() {
    [ -x "$PY" ] && "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('llama_cpp_python') != '$VERSION')" 2>/dev/null
}

if ! installed; then
    echo "bench-llama-cpp: installing llama-cpp-python $VERSION into $VENV (sdist build, several minutes)" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip >&2
    # CPU only, no OpenMP (ggml's own thread pool, like Chorus's workers), native ISA like a local build.
    CMAKE_ARGS="-DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF -DGGML_BLAS=OFF -DGGML_NATIVE=ON -DLLAMA_CURL=OFF" \
        CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
        "$VENV/bin/pip" install --quiet --no-cache-dir "llama-cpp-python==$VERSION" >&2
    installed || { echo "bench-llama-cpp: error: llama-cpp-python $VERSION did not install" >&2; exit 1; }
fi

THREADS="${THREADS:-2}"
MODEL="$(Tools/fetch-model.sh)"
swift build -c release --product chorus-bench >&2
PIN=()
if [ "$(nproc)" -gt "$THREADS" ] && command -v taskset >/dev/null; then
    PIN=(taskset -c "0-$((THREADS - 1))")
fi
exec "${PIN[@]}" .build/release/chorus-bench worker --vs-llama-cpp --json --model-path "$MODEL" --threads "$THREADS" \
    --llama-cpp-python "$PY" --llama-cpp-driver Tools/bench_llama_cpp.py "$@"
