#!/usr/bin/env python3
"""Writes Specs/vectors/peer-records.json: signed peer records and peer-exchange v2 messages encoded
from Specs/gossip.md §5 ("Peer records", "Peer exchange") by this independent encoder (Python's
`cryptography` for Ed25519), which the Swift tests decode, re-sign and re-encode byte for byte."""
import json
import os
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

DOMAIN = b"chorus/peer-record/1\x00"


def u8(n): return bytes([n])
def u32(n): return struct.pack("<I", n)
def u64(n): return struct.pack("<Q", n)
def string(s): b = s.encode("utf-8"); return u32(len(b)) + b
def array(items, enc): return u32(len(items)) + b"".join(enc(i) for i in items)


def key(n):
    sk = Ed25519PrivateKey.from_private_bytes(bytes([n]) * 32)
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sk, pk


def body(network, pk, seq, issued, role, addresses, models, version=1):
    return (u8(version) + string(network) + pk + u64(seq) + u64(issued) + u8(role)
            + array(addresses, string) + array(models, string))


def record(n, network, seq, issued, role, addresses, models):
    sk, pk = key(n)
    addresses = sorted(set(addresses), key=lambda a: a.encode())
    models = sorted(set(models), key=lambda m: m.encode())
    b = body(network, pk, seq, issued, role, addresses, models)
    sig = sk.sign(DOMAIN + b)
    return dict(seed_byte=n, network_id=network, public_key=pk.hex(), seq=seq, issued_at_ms=issued, role=role,
                addresses=addresses, models=models, signature=sig.hex(), encoded=(b + sig).hex())


valid = [
    ("full node, one address, two models",
     record(1, "chorus-devnet", 1, 1767225600000, 1, ["203.0.113.7:7700"],
            ["chorus/synthetic-devnet", "HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1"])),
    ("verify-only node, IPv4 and IPv6, no models",
     record(2, "chorus-devnet", 1767225600123, 1767225600123, 2, ["[2001:db8:0:0:0:0:0:1]:7700", "198.51.100.2:7701"], [])),
    ("no addresses", record(3, "chorus-test", 18446744073709551615, 0, 1, [], [])),
]

base = valid[0][1]
enc = bytes.fromhex(base["encoded"])
sk1, pk1 = key(1)


def resign(b):
    return (b + sk1.sign(DOMAIN + b)).hex()


invalid = [
    ("unknown version", resign(body("chorus-devnet", pk1, 1, 0, 1, [], [], version=2)), "unknown-version"),
    ("role 3", resign(body("chorus-devnet", pk1, 1, 0, 3, [], [])), "invalid-value"),
    # "9.9.9.9:1" sorts after "10.0.0.1:1" bytewise ('9' > '1'), so this order is wrong:
    ("addresses out of order", resign(body("chorus-devnet", pk1, 1, 0, 1, ["9.9.9.9:1", "10.0.0.1:1"], [])),
     "invalid-value"),
    ("duplicate model", resign(body("chorus-devnet", pk1, 1, 0, 1, [], ["a", "a"])), "invalid-value"),
    ("non-canonical address", resign(body("chorus-devnet", pk1, 1, 0, 1, ["010.0.0.1:1"], [])), "invalid-value"),
    ("compressed IPv6 address", resign(body("chorus-devnet", pk1, 1, 0, 1, ["[2001:db8::1]:7700"], [])), "invalid-value"),
    ("nine addresses", resign(body("chorus-devnet", pk1, 1, 0, 1, ["1.1.1.%d:1" % i for i in range(1, 10)], [])),
     "length-over-limit"),
    ("empty network id", resign(body("", pk1, 1, 0, 1, [], [])), "invalid-value"),
    ("truncated signature", enc[:-1].hex(), "truncated"),
    ("trailing byte", (enc + b"\x00").hex(), "trailing-bytes"),
]

# Decodes, but the signature does not verify: the record is forged.
tampered_seq = bytearray(enc)
seq_offset = 1 + 4 + len(b"chorus-devnet") + 32
tampered_seq[seq_offset] ^= 0x01
other_signer = body("chorus-devnet", pk1, 1, 1767225600000, 1, ["203.0.113.7:7700"],
                    ["HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1", "chorus/synthetic-devnet"])
sk2, _ = key(2)
forged = [
    ("seq raised after signing", bytes(tampered_seq).hex()),
    ("signed by another key", (other_signer + sk2.sign(DOMAIN + other_signer)).hex()),
    ("signed without the domain prefix", (other_signer + sk1.sign(other_signer)).hex()),
]

px = [
    ("request without a record", (u8(2) + u8(1) + u8(0)).hex()),
    ("request with the asker's record", (u8(2) + u8(1) + u8(1) + enc).hex()),
    ("records", (u8(2) + u8(2) + array([bytes.fromhex(v[1]["encoded"]) for v in valid], lambda r: r)).hex()),
]
px_invalid = [
    ("version 1 (unsigned addresses)", (u8(1) + u8(1)).hex(), "unknown-version"),
    ("kind 3", (u8(2) + u8(3)).hex(), "invalid-value"),
    ("33 records", (u8(2) + u8(2) + u32(33) + enc * 33).hex(), "length-over-limit"),
]

out = dict(
    description="Signed peer records and peer exchange v2 (Specs/gossip.md §5), written by "
                "Tools/vectors/peer_record_vector.py. Keys are Ed25519 from the seed byte repeated 32 times; "
                "the signature covers the domain prefix followed by the record without its signature.",
    domain_hex=DOMAIN.hex(),
    vectors=[dict(name=n, **r) for n, r in valid],
    invalid=[dict(name=n, encoded=e, error=c) for n, e, c in invalid],
    forged=[dict(name=n, encoded=e) for n, e in forged],
    px=[dict(name=n, encoded=e) for n, e in px],
    px_invalid=[dict(name=n, encoded=e, error=c) for n, e, c in px_invalid],
)
path = os.path.join(os.path.dirname(__file__), "..", "..", "Specs", "vectors", "peer-records.json")
with open(path, "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
print("wrote", os.path.normpath(path))
