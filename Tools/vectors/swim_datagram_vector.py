#!/usr/bin/env python3
"""Writes Specs/vectors/swim-datagrams.json: signed SWIM datagrams encoded from Specs/membership.md
("Datagrams") by this independent encoder (Python's `cryptography` for Ed25519). The Swift tests
decode every valid vector to the message it describes, re-sign it byte for byte, and check that every
invalid one is refused with the named error."""
import json
import os
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

DOMAIN = b"chorus/swim/1\x00"
KINDS = {"ping": 1, "ping_request": 2, "ack": 3, "nack": 4, "gossip": 5, "sync": 6}
STATUS = {"alive": 0, "suspect": 1, "dead": 2}


def u8(n): return bytes([n])
def u32(n): return struct.pack("<I", n)
def u64(n): return struct.pack("<Q", n)
def string(s): b = s.encode("utf-8"); return u32(len(b)) + b


def key(n):
    sk = Ed25519PrivateKey.from_private_bytes(bytes([n]) * 32)
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sk, pk


def pk(n): return key(n)[1]


def update(u):
    out = pk(u["member"]) + u8(STATUS[u["status"]]) + u64(u["incarnation"])
    out += (u8(1) + string(u["address"])) if "address" in u else u8(0)
    out += (u8(1) + pk(u["source"])) if "source" in u else u8(0)
    return out


def updates(items): return u32(len(items)) + b"".join(update(u) for u in items)


def message(m):
    out = u8(KINDS[m["kind"]])
    if m["kind"] in ("ping", "ack", "nack"):
        out += u64(m["sequence"])
    elif m["kind"] == "ping_request":
        out += u64(m["sequence"]) + pk(m["target"]) + u32(m["timeout_ms"])
    elif m["kind"] == "sync":
        out += u8(1 if m["is_reply"] else 0) + updates(m["members"])
    return out + updates(m.get("updates", []))


def datagram(seed, network, counter, m, version=1):
    sk, sender = key(seed)
    unsigned = u8(version) + sender + u64(counter) + message(m)
    sig = sk.sign(DOMAIN + string(network) + unsigned)
    return unsigned + sig


NET = "test-net"
valid = [
    ("ping", 1, 1_700_000_000_000_000_001, {"kind": "ping", "sequence": 7}),
    ("ack with updates", 2, 42, {"kind": "ack", "sequence": 7, "updates": [
        {"member": 3, "status": "suspect", "incarnation": 4, "source": 1},
        {"member": 1, "status": "alive", "incarnation": 0, "address": "127.0.0.1:7701"}]}),
    ("ping request", 1, 43, {"kind": "ping_request", "sequence": 9, "target": 3, "timeout_ms": 200}),
    ("nack", 4, 44, {"kind": "nack", "sequence": 9}),
    ("gossip dead", 2, 45, {"kind": "gossip", "updates": [
        {"member": 3, "status": "dead", "incarnation": 4, "source": 2}]}),
    ("sync ipv6", 5, 46, {"kind": "sync", "is_reply": False, "members": [
        {"member": 5, "status": "alive", "incarnation": 2, "address": "[fd00:0:0:0:0:0:0:5]:7705"},
        {"member": 3, "status": "dead", "incarnation": 4, "source": 5}]}),
]

out = {"domain_hex": DOMAIN.hex(), "network_id": NET, "max_size": 1400, "vectors": [], "invalid": []}
for name, seed, counter, m in valid:
    out["vectors"].append(dict(name=name, seed_byte=seed, counter=counter, message=m,
                               encoded=datagram(seed, NET, counter, m).hex()))

ping = datagram(1, NET, 5, {"kind": "ping", "sequence": 1})
flipped = bytearray(ping); flipped[45] ^= 1
bad_status = datagram(2, NET, 6, {"kind": "gossip", "updates": [{"member": 3, "status": "alive", "incarnation": 1}]})
bad_status = bytearray(bad_status); bad_status[1 + 32 + 8 + 1 + 4 + 32] = 9  # status byte of the first update
sk, _ = key(2)
unsigned = bytes(bad_status[:-64])
bad_status = unsigned + sk.sign(DOMAIN + string(NET) + unsigned)
invalid = [
    ("other network", datagram(1, "other-net", 5, {"kind": "ping", "sequence": 1}), "bad-signature"),
    ("flipped sequence bit", bytes(flipped), "bad-signature"),
    ("unknown version", datagram(1, NET, 5, {"kind": "ping", "sequence": 1}, version=2), "unknown-version"),
    ("unknown kind", (lambda u: u + key(1)[0].sign(DOMAIN + string(NET) + u))(u8(1) + pk(1) + u64(5) + u8(9) + u32(0)),
     "unknown-type"),
    ("bad status", bad_status, "invalid-value"),
    ("truncated", ping[:50], "truncated"),
    ("too long", datagram(1, NET, 5, {"kind": "gossip", "updates": [
        {"member": 3, "status": "suspect", "incarnation": i, "source": 1} for i in range(20)]}), "length-over-limit"),
    # Incarnations above 2^62 are refused at decoding, so `incarnation + 1` can never overflow.
    ("incarnation 2^64-1", datagram(2, NET, 7, {"kind": "gossip", "updates": [
        {"member": 3, "status": "suspect", "incarnation": 2**64 - 1, "source": 2}]}), "invalid-value"),
    ("incarnation 2^62+1 in a sync", datagram(2, NET, 8, {"kind": "sync", "is_reply": False, "members": [
        {"member": 3, "status": "alive", "incarnation": 2**62 + 1}]}), "invalid-value"),
]
for name, data, error in invalid:
    out["invalid"].append(dict(name=name, encoded=data.hex(), error=error))

path = os.path.join(os.path.dirname(__file__), "..", "..", "Specs", "vectors", "swim-datagrams.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote", os.path.normpath(path))
