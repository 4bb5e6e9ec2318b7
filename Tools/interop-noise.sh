#!/usr/bin/env bash
# Slow tier: chorusd against an independent Noise implementation (Tools/interop/chorusd_peer.py,
# PyPI noiseprotocol + cryptography): the Python peer completes the handshake with chorusd as
# initiator (it dials the node) and as responder (the node dials it), checks the node's identity
# proof, exchanges ping/pong, and the node lists the Python peer in `chorus peers`. A Python
# initiator of another network must be refused and counted. Prints OK when all of that holds.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check 'noiseprotocol==0.3.1' 'cryptography>=42' 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages 'noiseprotocol==0.3.1' 'cryptography>=42'
swift build --product chorusd >/dev/null
swift build --product chorus >/dev/null
BIN=.build/debug
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
key_of() { "$BIN/chorus" --data-dir "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])'; }
wait_for_node() { for _ in $(seq 50); do "$BIN/chorus" --data-dir "$1" status >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "node $1 did not start" >&2; exit 1; }
peers_of() { "$BIN/chorus" --data-dir "$1" peers --json; }

# 1. Python as initiator: it dials chorusd.
PORT_A=$(free_port)
"$BIN/chorusd" init --data-dir "$WORK/a" --listen "127.0.0.1:$PORT_A" >/dev/null
"$BIN/chorusd" run --data-dir "$WORK/a" 2>"$WORK/a.log" & PIDS+=($!)
wait_for_node "$WORK/a"
KEY_A=$(key_of "$WORK/a")
python3 Tools/interop/chorusd_peer.py --role initiator --connect "127.0.0.1:$PORT_A" --network chorus-devnet \
  --expect-peer "$KEY_A" --hold 1.5 >"$WORK/initiator.json" & PY=$!
sleep 0.8
PY_KEY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["me"])' "$WORK/initiator.json")
peers_of "$WORK/a" | grep -q "$PY_KEY" || { echo "FAIL: chorusd does not list the Python initiator" >&2; exit 1; }
wait "$PY" || { echo "FAIL: Python initiator" >&2; exit 1; }
echo "initiator: Python dialed chorusd, handshake + ping/pong OK, listed by chorus peers"

# 2. Python as responder: chorusd dials it.
PORT_PY=$(free_port); PORT_B=$(free_port)
"$BIN/chorusd" init --data-dir "$WORK/b" --listen "127.0.0.1:$PORT_B" >/dev/null
python3 Tools/interop/chorusd_peer.py --role responder --listen "127.0.0.1:$PORT_PY" --network chorus-devnet \
  --hold 1.5 >"$WORK/responder.json" & PY=$!
sleep 0.3
"$BIN/chorusd" run --data-dir "$WORK/b" --seed "127.0.0.1:$PORT_PY" 2>"$WORK/b.log" & PIDS+=($!)
wait_for_node "$WORK/b"
KEY_B=$(key_of "$WORK/b")
sleep 0.8
PY_KEY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["me"])' "$WORK/responder.json")
PROVED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peer"])' "$WORK/responder.json")
[ "$PROVED" = "$KEY_B" ] || { echo "FAIL: chorusd proved $PROVED, expected $KEY_B" >&2; exit 1; }
peers_of "$WORK/b" | grep -q "$PY_KEY" || { echo "FAIL: chorusd does not list the Python responder" >&2; exit 1; }
wait "$PY" || { echo "FAIL: Python responder" >&2; exit 1; }
echo "responder: chorusd dialed Python, handshake + ping/pong OK, listed by chorus peers"

# 3. A peer of another network: chorusd dials it, cannot authenticate message 2, refuses and counts it.
PORT_X=$(free_port); PORT_C=$(free_port)
python3 Tools/interop/chorusd_peer.py --role responder --listen "127.0.0.1:$PORT_X" --network other-net 2>/dev/null & PY=$!
sleep 0.3
"$BIN/chorusd" init --data-dir "$WORK/c" --listen "127.0.0.1:$PORT_C" >/dev/null
"$BIN/chorusd" run --data-dir "$WORK/c" --seed "127.0.0.1:$PORT_X" 2>"$WORK/c.log" & PIDS+=($!)
wait_for_node "$WORK/c"
sleep 0.5
if wait "$PY"; then echo "FAIL: a peer of another network completed the handshake" >&2; exit 1; fi
"$BIN/chorus" --data-dir "$WORK/c" status --json | grep -q '"handshake_failed"' \
  || { echo "FAIL: the refused handshake was not counted" >&2; exit 1; }
grep -q "failed authentication" "$WORK/c.log" || { echo "FAIL: the refusal was not logged" >&2; exit 1; }
echo "wrong network: refused, logged and counted"
echo OK
