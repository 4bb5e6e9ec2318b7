#!/usr/bin/env bash
# The inference end-to-end check (slow tier, ~6 min): a release 5-node devnet with SmolLM2 on
# nodes 4-5 (nodes 1-3 delegate to them), once SmolLM2 has a group in a final table, answers the
# `openai` Python client (PyPI, installed into .build/openai-venv) on every node's API, streamed
# and not: "What is the capital of France?" must come back with Paris and a receipt id, and the
# requests to nodes 1-3 must run on another node. Then `chorus inferences` must list receipts on
# the gateways and the executors. Ports: 7981-7985 (mesh), 8981-8985 (API); data in a temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/install-deps.sh >/dev/null
MODEL="$(Tools/fetch-model.sh)"
export CHORUS_MODEL_PATH="$MODEL"
if [ ! -x .build/openai-venv/bin/python ] || ! .build/openai-venv/bin/python -c "import openai" 2>/dev/null; then
    python3 -m venv .build/openai-venv
    .build/openai-venv/bin/pip install --quiet openai
fi
swift build -c release --product chorusd
swift build -c release --product chorus
BIN=.build/release
DIR="$(mktemp -d)"
"$BIN/chorusd" devnet --smollm2 --dir "$DIR" --base-port 7980 --api-base-port 8980 --interval 10 --duration 900 >"$DIR/devnet.out" 2>&1 &
DEVNET=$!
trap 'kill -INT $DEVNET 2>/dev/null; wait $DEVNET 2>/dev/null || true; rm -rf "$DIR"' EXIT
SMOL="HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1"

echo "test-openai-client: waiting for a final table in which SmolLM2 has a group (about 3-4 minutes)"
for _ in $(seq 1 60); do
    sleep 10
    if "$BIN/chorus" --data-dir "$DIR/node-1" weights --json 2>/dev/null \
        | python3 -c "import json,sys; t=json.load(sys.stdin); sys.exit(0 if any(m['model']=='$SMOL' and m['accepted'] and m['poc_weight']>0 for p in t['participants'] for m in p['models']) else 1)"; then
        break
    fi
done
"$BIN/chorus" --data-dir "$DIR/node-1" weights

KEYS=$(for i in 1 2 3 4 5; do "$BIN/chorus" --data-dir "$DIR/node-$i" status --json | python3 -c "import json,sys; print(json.load(sys.stdin)['public_key'])"; done | paste -sd,)
.build/openai-venv/bin/python Tools/openai_client_check.py --ports 8981,8982,8983,8984,8985 --model "$SMOL" --keys "$KEYS" --routed 1,2,3

for i in 1 4 5; do
    echo "node $i:"
    "$BIN/chorus" --data-dir "$DIR/node-$i" inferences --limit 10
done
COUNT=$("$BIN/chorus" --data-dir "$DIR/node-1" inferences --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)['records']))")
[ "$COUNT" -ge 2 ] || { echo "test-openai-client: node 1 recorded $COUNT receipts, expected 2"; exit 1; }
echo "test-openai-client: passed"
