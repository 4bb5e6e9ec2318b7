#!/usr/bin/env bash
# Builds chorusd and chorus in release mode and installs them (idempotent: run it again to upgrade).
#
#   Tools/install.sh                      # build, then install to /usr/local/bin (needs root)
#   Tools/install.sh --prefix ~/.local    # a user install: ~/.local/bin/chorusd, ~/.local/bin/chorus
#   Tools/install.sh --systemd            # also a system user `chorus` and /etc/systemd/system/chorusd.service
#   Tools/install.sh --skip-build         # install what .build/release already holds
#
# Needs the system libraries Tools/install-deps.sh installs (libsodium, lmdb, libuv, openblas) at
# build time and at run time. The unit (Tools/chorusd.service) runs PREFIX/bin/chorusd as the
# `chorus` user with its data in /var/lib/chorus; see README "Operator guide".
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=/usr/local
systemd=false
build=true
usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a directory" >&2; exit 2; }; prefix="$2"; shift 2 ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        --systemd) systemd=true; shift ;;
        --skip-build) build=false; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$prefix" in /*) ;; *) prefix="$PWD/$prefix" ;; esac
bin="$prefix/bin"

if $build; then
    Tools/install-deps.sh
    swift build -c release --product chorusd
    swift build -c release --product chorus
fi
release=$(swift build -c release --show-bin-path)
for program in chorusd chorus; do
    [ -x "$release/$program" ] || { echo "install.sh: $release/$program is missing; run without --skip-build" >&2; exit 1; }
done

mkdir -p "$bin" || { echo "install.sh: cannot create $bin (a system prefix needs root: sudo, or --prefix ~/.local)" >&2; exit 1; }
for program in chorusd chorus; do
    # install(1) writes a new file and renames it over the old one, so a running chorusd keeps its binary.
    install -m 0755 "$release/$program" "$bin/$program"
    echo "installed $bin/$program: $("$bin/$program" --version | head -1)"
done

if $systemd; then
    [ "$(id -u)" -eq 0 ] || { echo "install.sh: --systemd needs root" >&2; exit 1; }
    if ! id -u chorus >/dev/null 2>&1; then
        useradd --system --user-group --home-dir /var/lib/chorus --no-create-home --shell /usr/sbin/nologin chorus
        echo "created system user chorus"
    fi
    unit=/etc/systemd/system/chorusd.service
    sed "s#/usr/local/bin/chorusd#$bin/chorusd#g" Tools/chorusd.service > "$unit.tmp"
    mv "$unit.tmp" "$unit"
    chmod 0644 "$unit"
    echo "installed $unit"
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        echo "next: sudo -u chorus $bin/chorusd init --data-dir /var/lib/chorus --listen 0.0.0.0:7700 (once; needs /var/lib/chorus:"
        echo "      systemctl start chorusd creates it, or mkdir -m 0700 and chown chorus:), then systemctl enable --now chorusd"
    else
        echo "systemd is not running here: the unit is installed but not loaded"
    fi
fi
case ":$PATH:" in *":$bin:"*) ;; *) echo "note: $bin is not on PATH; add it (e.g. export PATH=\"$bin:\$PATH\")" ;; esac
