#!/usr/bin/env python3
"""Writes Specs/vectors/gossip-rpc.json: gossip RPCs encoded from Specs/gossip.md ("Wire format")
by this independent encoder, which the Swift tests decode and re-encode byte for byte."""
import hashlib
import json
import os
import struct


def u32(n):
    return struct.pack("<I", n)


def string(s):
    b = s.encode("utf-8")
    return u32(len(b)) + b


def array(items, encode):
    return u32(len(items)) + b"".join(encode(i) for i in items)


def rpc(subscribe=(), unsubscribe=(), messages=(), ihave=(), iwant=(), graft=(), prune=(), idontwant=(), choke=(), unchoke=()):
    return (bytes([1]) + array(subscribe, string) + array(unsubscribe, string)
            + array(messages, lambda m: string(m[0]) + u32(len(m[1])) + m[1])
            + array(ihave, lambda e: string(e[0]) + array(e[1], lambda i: i))
            + array(iwant, lambda i: i) + array(graft, string)
            + array(prune, lambda e: string(e[0]) + u32(e[1])) + array(idontwant, lambda i: i)
            + array(choke, string) + array(unchoke, string))


def ident(n):
    return hashlib.blake2b(bytes([n]), digest_size=32).digest()


cases = [
    ("empty", dict(), rpc()),
    ("subscribe and graft", dict(subscribe=["statements", "poc/commits"], graft=["statements"]),
     rpc(subscribe=["statements", "poc/commits"], graft=["statements"])),
    ("two messages", dict(messages=[["statements", "68656c6c6f"], ["chat", ""]]),
     rpc(messages=[("statements", b"hello"), ("chat", b"")])),
    ("lazy gossip", dict(ihave=[["statements", [ident(1).hex(), ident(2).hex()]]], iwant=[ident(3).hex()],
                         idontwant=[ident(4).hex()]),
     rpc(ihave=[("statements", [ident(1), ident(2)])], iwant=[ident(3)], idontwant=[ident(4)])),
    ("prune with backoff", dict(unsubscribe=["chat"], prune=[["chat", 60]]), rpc(unsubscribe=["chat"], prune=[("chat", 60)])),
    ("choke and unchoke", dict(choke=["statements"], unchoke=["chat", "poc/commits"]),
     rpc(choke=["statements"], unchoke=["chat", "poc/commits"])),
]
out = {
    "description": "Gossip RPCs (Specs/gossip.md, Wire format) encoded by Tools/vectors/gossip_rpc_vector.py; "
                   "message ids are BLAKE2b-256 of the payload",
    "vectors": [{"name": n, "rpc": f, "encoded": e.hex(),
                 "message_ids": [hashlib.blake2b(bytes.fromhex(m[1]), digest_size=32).hexdigest() for m in f.get("messages", [])]}
                for n, f, e in cases],
    "invalid": [
        {"name": "unknown version", "encoded": "02" + "00000000" * 10, "error": "unknown-version"},
        {"name": "truncated", "encoded": (rpc()[:-2]).hex(), "error": "truncated"},
        {"name": "trailing bytes", "encoded": (rpc() + b"\x00").hex(), "error": "trailing-bytes"},
        {"name": "too many topics", "encoded": (bytes([1]) + u32(65) + string("a") * 65 + u32(0) * 9).hex(), "error": "length-over-limit"},
        {"name": "topic too long", "encoded": (bytes([1]) + u32(1) + string("a" * 65) + u32(0) * 9).hex(), "error": "length-over-limit"},
        {"name": "iwant count beyond the bytes", "encoded": (bytes([1]) + u32(0) * 4 + u32(4000)).hex(), "error": "truncated"},
    ],
}
path = os.path.join(os.path.dirname(__file__), "..", "..", "Specs", "vectors", "gossip-rpc.json")
with open(path, "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
print("wrote", os.path.normpath(path))
