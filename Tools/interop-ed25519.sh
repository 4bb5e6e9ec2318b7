#!/usr/bin/env bash
# Slow tier: Ed25519 interoperability between `chorus` and an independent implementation
# (PyPI `cryptography`, i.e. OpenSSL). Checks that
#   1. signatures made by `chorus sign` verify in Python, and equal Python's own signature
#      made from the same seed (RFC 8032 signing is deterministic);
#   2. signatures made in Python are accepted by `chorus verify` (exit 0) and a tampered
#      message is rejected (exit 1);
#   3. a statement made by `chorus statement sign` verifies in Python over the domain-separated
#      bytes of Specs/statements.md, and its id is BLAKE2b-256 of those bytes.
# Usage: Tools/interop-ed25519.sh            (builds chorus in debug unless CHORUS is set)
#        CHORUS=/path/to/chorus Tools/interop-ed25519.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import cryptography' 2>/dev/null; then
    echo "installing PyPI cryptography for the interop check"
    python3 -m pip install --quiet cryptography
fi
if [[ -z "${CHORUS:-}" ]]; then
    swift build --product chorus >/dev/null
    CHORUS="$PWD/.build/debug/chorus"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$CHORUS" key new --out "$work/chorus.key" >/dev/null
head -c 0 /dev/null >"$work/m0.bin"
printf 'hello' >"$work/m1.bin"
head -c 1000 /dev/urandom >"$work/m2.bin"
head -c 100000 /dev/urandom >"$work/m3.bin"
for m in 0 1 2 3; do
    "$CHORUS" sign --key "$work/chorus.key" --in "$work/m$m.bin" >"$work/m$m.sig"
done
"$CHORUS" statement sign --key "$work/chorus.key" --network interop-test --type text \
    --epoch 3 --seq 5 --data "interop" --out "$work/statement.bin" >"$work/statement.id"

CHORUS="$CHORUS" WORK="$work" python3 - <<'PY'
import hashlib, os, pathlib, re, struct, subprocess, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

chorus, work = os.environ["CHORUS"], pathlib.Path(os.environ["WORK"])
failures = []

def raw(public_key):
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

# 1. chorus signs, Python verifies and re-signs from the same seed.
seed = bytes.fromhex(re.search(r"ed25519-seed: ([0-9a-f]{64})", (work / "chorus.key").read_text()).group(1))
key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
shown = subprocess.run([chorus, "key", "show", str(work / "chorus.key")], capture_output=True, text=True, check=True).stdout.strip()
if shown != raw(key.public_key()).hex():
    failures.append("chorus key show differs from the public key Python derives from the seed")
for m in range(4):
    message = (work / f"m{m}.bin").read_bytes()
    signature = bytes.fromhex((work / f"m{m}.sig").read_text().strip())
    try:
        key.public_key().verify(signature, message)
    except InvalidSignature:
        failures.append(f"chorus signature of m{m} ({len(message)} bytes) does not verify in Python")
    if key.sign(message) != signature:
        failures.append(f"chorus and Python signatures of m{m} differ")

# 2. Python signs, chorus verifies; a tampered message is rejected.
other = ed25519.Ed25519PrivateKey.generate()
public_hex = raw(other.public_key()).hex()
for m in range(4):
    message = (work / f"m{m}.bin").read_bytes()
    signature = other.sign(message).hex()
    ok = subprocess.run([chorus, "verify", "--public-key", public_hex, "--signature", signature, "--in", str(work / f"m{m}.bin")], capture_output=True, text=True)
    if ok.returncode != 0 or ok.stdout.strip() != "valid":
        failures.append(f"chorus verify refused Python's signature of m{m}: {ok.returncode} {ok.stderr.strip()}")
    bad = subprocess.run([chorus, "verify", "--public-key", public_hex, "--signature", signature], input=message + b"x", capture_output=True)
    if bad.returncode != 1:
        failures.append(f"chorus verify did not reject a tampered m{m} (exit {bad.returncode})")

# 3. A chorus statement verifies in Python over the domain-separated signed message.
encoded = (work / "statement.bin").read_bytes()
pos = 1
(n,) = struct.unpack_from("<I", encoded, pos); pos += 4 + n
(n,) = struct.unpack_from("<I", encoded, pos); type_name = encoded[pos + 4:pos + 4 + n]
message = b"chorus/v1/" + type_name + b"\x00" + encoded[:-64]
try:
    key.public_key().verify(encoded[-64:], message)
except InvalidSignature:
    failures.append("chorus statement signature does not verify in Python")
if hashlib.blake2b(message, digest_size=32).hexdigest() != (work / "statement.id").read_text().strip():
    failures.append("chorus statement id is not BLAKE2b-256 of the signed message")

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("interop-ed25519: OK (4 chorus signatures verified and reproduced by Python, "
      "4 Python signatures accepted by chorus, 4 tampered messages rejected, 1 statement verified)")
PY
