#!/usr/bin/env bash
# Slow tier for the admin listener's status page (README "Status page"): a 5-node devnet (release
# build, PoC on the synthetic model) runs until its first final epoch, then headless Chromium
# (Debian's `chromium`, installed here when missing) loads node 1's page at http://127.0.0.1:PORT/.
# The screenshot must not be blank (its pixels are decoded and measured), and the DOM after the
# page's script ran must hold the node's live data: its key, the current and last final epoch,
# its peers, the weight table. A verify-only node beside the devnet writes its audit reports, and
# the index page linking them is screenshotted too. About 2 minutes after the build.
#
#   Tools/test-browser.sh [--out DIR] [--nodes 5] [--base-port P]
#   # default DIR .build/browser-check: status-page.png, status-page.html (DOM), audit-index.png
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/install-deps.sh >&2

# Chromium, the way install-deps.sh installs packages: only when missing, apt-get update once
# when the lists are too old, sudo when not root.
if ! command -v chromium >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "test-browser: error: chromium is missing and apt-get was not found; install Chromium by hand" >&2
        exit 1
    fi
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
            echo "test-browser: error: need root (or sudo) to install chromium" >&2
            exit 1
        fi
    fi
    echo "test-browser: installing chromium" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! $SUDO apt-get install -y --no-install-recommends chromium >&2; then
        $SUDO apt-get update >&2
        $SUDO apt-get install -y --no-install-recommends chromium >&2
    fi
fi

swift build -c release --product chorusd >&2
exec python3 Tools/browser_check.py "$@"
