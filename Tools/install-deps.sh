#!/usr/bin/env bash
# Installs the system packages Chorus builds against (Debian/Ubuntu, as root or with sudo).
# Idempotent: does nothing when everything is already present. Also unpacks promtool (below).
#
#   Tools/install-deps.sh          # build and test dependencies
#   Tools/install-deps.sh --lab    # also what the network lab needs (iproute2, nftables)
#   Tools/install-deps.sh --calibration   # also taskset (util-linux) for Tools/calibration-check.sh
set -euo pipefail

PACKAGES=(libsodium-dev libuv1-dev liblmdb-dev lmdb-utils libopenblas-dev pkg-config)
for arg in "$@"; do
    case "$arg" in
        --lab) PACKAGES+=(iproute2 nftables) ;;
        --calibration) PACKAGES+=(util-linux) ;;
        *) echo "install-deps: error: unknown option '$arg' (known: --lab, --calibration)" >&2; exit 2 ;;
    esac
done

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

# promtool (Debian's `prometheus` package), which the admin listener's test runs on a scrape
# (`promtool check metrics`). Only the binary is unpacked, into .build-promtool/ (ignored by git):
# installing the package would also enable and start a Prometheus server on port 9090.
install_promtool() {
    local target
    target="$(cd "$(dirname "$0")/.." && pwd)/.build-promtool/usr/bin/promtool"
    if command -v promtool >/dev/null 2>&1 || [ -x "$target" ]; then return 0; fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install-deps: apt-get not found; promtool (Debian package prometheus) not installed, its check is skipped" >&2
        return 0
    fi
    local dir
    dir=$(mktemp -d)
    if ! (cd "$dir" && apt-get download prometheus >/dev/null 2>&1); then
        ${SUDO:-} apt-get update >/dev/null
        if ! (cd "$dir" && apt-get download prometheus >/dev/null); then
            echo "install-deps: error: could not download the prometheus package (for promtool)" >&2
            rm -rf "$dir"
            return 1
        fi
    fi
    dpkg-deb -x "$dir"/prometheus_*.deb "$dir/root"
    mkdir -p "$(dirname "$target")"
    cp "$dir/root/usr/bin/promtool" "$target"
    rm -rf "$dir"
    echo "install-deps: promtool unpacked to $target"
}

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all system packages present (${PACKAGES[*]})"
    install_promtool
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: error: apt-get not found; install these packages by hand: ${missing[*]}" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-deps: error: need root (or sudo) to install: ${missing[*]}" >&2
        exit 1
    fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The package lists may be absent on a fresh machine, or too old to know a package: update once, then retry.
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
    echo "install-deps: apt-get install failed; running apt-get update and retrying"
    $SUDO apt-get update
    if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
        echo "install-deps: error: could not install ${missing[*]} (see apt-get output above)" >&2
        exit 1
    fi
fi
install_promtool
echo "install-deps: done"
