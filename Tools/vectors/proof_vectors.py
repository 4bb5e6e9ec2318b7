#!/usr/bin/env python3
"""Independent Python reference for the proof protocol (Specs/proofs.md): proof requests and
responses of session tag 4. Writes Specs/vectors/proofs.json, which ChorusNodeTests load.

The response carries the proof of the one-leaf case of Specs/vectors/poc-commitments.json, so it
verifies against that case's root.

Usage: python3 Tools/vectors/proof_vectors.py   (needs the `cryptography` package for Ed25519)
"""
import json
import pathlib
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "Specs" / "vectors"


def u8(x): return struct.pack("<B", x)
def u32(x): return struct.pack("<I", x)
def u64(x): return struct.pack("<Q", x)
def string(s: str) -> bytes:
    b = s.encode()
    return u32(len(b)) + b


DOMAIN = b"chorus/proof-request/1\x00"


def request_fields(request_id, epoch, model, commit, indices):
    return u8(1) + u64(request_id) + u64(epoch) + string(model) + commit + u32(len(indices)) + b"".join(u64(i) for i in indices)


def proof_bytes(p):
    art = bytes.fromhex(p["artifact"])
    sib = b"".join(bytes.fromhex(s["hash"]) + u64(s["count"]) for s in p["siblings"])
    return u8(1) + u64(p["index"]) + u64(p["nonce"]) + u32(len(art)) + art + u32(len(p["siblings"])) + sib


def main():
    key = Ed25519PrivateKey.from_private_bytes(bytes([1] * 32))
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    network = "chorus-devnet"
    commit = bytes([0xAA] * 32)
    model = "chorus/synthetic-devnet"
    indices = [0, 5, 9]
    fields = request_fields(7, 3, model, commit, indices)
    message = DOMAIN + string(network) + public + fields
    signature = key.sign(message)
    request = u8(1) + fields + signature

    commitments = json.loads((VECTORS / "poc-commitments.json").read_text())
    case = next(c for c in commitments["cases"] if c["name"] == "one-leaf-depth-4")
    proof = case["proofs"][0]
    response = u8(2) + u8(1) + u64(7) + commit + u8(0) + u32(1) + proof_bytes(proof)
    refusal = u8(2) + u8(1) + u64(8) + commit + u8(2) + u32(0)

    forged = bytearray(request)
    forged[-1] ^= 0x01
    invalid = [
        {"name": "unknown-kind", "hex": (u8(3) + fields + signature).hex(), "error": "invalid-value"},
        {"name": "unknown-request-version", "hex": (u8(1) + u8(2) + fields[1:] + signature).hex(), "error": "unknown-version"},
        {"name": "indices-not-ascending",
         "hex": (u8(1) + request_fields(7, 3, model, commit, [5, 0]) + signature).hex(), "error": "invalid-value"},
        {"name": "no-indices", "hex": (u8(1) + request_fields(7, 3, model, commit, []) + signature).hex(), "error": "invalid-value"},
        {"name": "too-many-indices", "hex": (u8(1) + request_fields(7, 3, model, commit, list(range(257))) + signature).hex(),
         "error": "length-over-limit"},
        {"name": "truncated-signature", "hex": request[:-1].hex(), "error": "truncated"},
        {"name": "trailing-byte", "hex": (request + b"\x00").hex(), "error": "trailing-bytes"},
        {"name": "unknown-status", "hex": (u8(2) + u8(1) + u64(7) + commit + u8(9) + u32(0)).hex(), "error": "invalid-value"},
        {"name": "forged-proof-count", "hex": (u8(2) + u8(1) + u64(7) + commit + u8(0) + u32(200)).hex(), "error": "truncated"},
    ]
    out = {
        "about": "Proof requests and responses of Specs/proofs.md (session tag 4; the tag byte is not included). "
                 "The request is signed with the Ed25519 key of seed 01x32 over domain || string network_id || validator || "
                 "fields. The response's proof is the one-leaf-depth-4 case of poc-commitments.json.",
        "network_id": network,
        "validator_seed": bytes([1] * 32).hex(),
        "validator": public.hex(),
        "request": {
            "request_id": 7, "epoch": 3, "model": model, "commit": commit.hex(), "indices": indices,
            "signing_message": message.hex(), "signature": signature.hex(), "encoded": request.hex(),
        },
        "forged_request": bytes(forged).hex(),
        "response": {
            "request_id": 7, "commit": commit.hex(), "status": "ok", "encoded": response.hex(),
            "root": case["root"], "count": case["count"], "depth": case["depth"],
        },
        "rate_limited_response": {"request_id": 8, "encoded": refusal.hex()},
        "invalid": invalid,
    }
    (VECTORS / "proofs.json").write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", VECTORS / "proofs.json")


if __name__ == "__main__":
    main()
