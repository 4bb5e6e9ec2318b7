#!/usr/bin/env bash
# Slow tier for epochs: a 5-node devnet (synthetic model + SmolLM2, delegation in both directions)
# and a verify-only auditor run whole epochs; tables must agree bit for bit, be certified by > tau
# of the weight, and re-verify from `chorus epoch export` alone. Release build; about 8 minutes.
#
#   Tools/epoch-check.sh [--epochs 4] [--json]
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/install-deps.sh >&2
Tools/fetch-model.sh >/dev/null
swift build -c release --product chorusd >&2
swift build -c release --product chorus >&2
exec python3 Tools/epoch_check.py "$@"
