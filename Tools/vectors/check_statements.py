#!/usr/bin/env python3
"""Independent check of Specs/vectors/statements.json against Specs/statements.md, written from
the spec prose and sharing no code with the Swift implementation: PyPI `cryptography` for
Ed25519 and hashlib.blake2b for message ids.

For each valid vector: re-encode the fields per the spec and compare with `encoded`; rebuild the
signed message; re-sign with the seed (Ed25519 is deterministic) and compare the signature;
verify it; recompute the id; decode `encoded` with the strict reference decoder below. For each
invalid vector: the reference decoder must refuse it with the listed error code.

Usage: python3 Tools/vectors/check_statements.py   (pip install cryptography if missing)
"""
import hashlib
import json
import pathlib
import re
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "Specs" / "vectors" / "statements.json"
NETWORK_ID = re.compile(rb"[a-z0-9._-]{1,64}\Z")
TYPE_NAME = re.compile(rb"[a-z0-9-]{1,32}\Z")
MAX_BODY = 1 << 20


class Refused(Exception):
    def __init__(self, code, why):
        super().__init__(f"{code}: {why}")
        self.code = code


def length_prefixed(b):
    return struct.pack("<I", len(b)) + b


def encode_fields(network_id, type_name, epoch, author, seq, body):
    return (b"\x01" + length_prefixed(network_id) + length_prefixed(type_name) + struct.pack("<Q", epoch)
            + author + struct.pack("<Q", seq) + length_prefixed(body))


def signed_message(type_name, fields):
    return b"chorus/v1/" + type_name + b"\x00" + fields


def decode(data):
    """Strict reference decoder: returns the fields or raises Refused(code)."""
    pos = 0

    def take(n, field):
        nonlocal pos
        if n > len(data) - pos:
            raise Refused("truncated", field)
        pos += n
        return data[pos - n:pos]

    def prefixed(field, limit):
        (n,) = struct.unpack("<I", take(4, field))
        if n > limit:
            raise Refused("length-over-limit", field)
        return take(n, field)

    (version,) = take(1, "version")
    if version != 1:
        raise Refused("unknown-version", version)
    network_id = prefixed("network_id", 64)
    if not NETWORK_ID.match(network_id):
        raise Refused("invalid-value", "network_id")
    type_name = prefixed("type", 32)
    if not TYPE_NAME.match(type_name):
        raise Refused("invalid-value", "type")
    (epoch,) = struct.unpack("<Q", take(8, "epoch"))
    author = take(32, "author")
    (seq,) = struct.unpack("<Q", take(8, "seq"))
    body = prefixed("body", MAX_BODY)
    fields_end = pos
    signature = take(64, "signature")
    if pos != len(data):
        raise Refused("trailing-bytes", len(data) - pos)
    message = signed_message(type_name, data[:fields_end])
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(author).verify(signature, message)
    except InvalidSignature:
        raise Refused("bad-signature", "signature") from None
    return dict(network_id=network_id.decode(), type=type_name.decode(), epoch=epoch, author=author, seq=seq,
                body=body, signature=signature, id=hashlib.blake2b(message, digest_size=32).digest())


def main():
    doc = json.loads(VECTORS.read_text())
    failures = []

    def check(name, got, want):
        if got != want:
            failures.append(f"{name}: got {got!r}, want {want!r}")

    for v in doc["valid"]:
        name = v["name"]
        key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["seed"]))
        author = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        check(f"{name}: public key", author.hex(), v["public_key"])
        fields = encode_fields(v["network_id"].encode(), v["type"].encode(), int(v["epoch"]), author, int(v["seq"]),
                               bytes.fromhex(v["body"]))
        message = signed_message(v["type"].encode(), fields)
        check(f"{name}: signed message", message.hex(), v["signed_message"])
        signature = key.sign(message)
        check(f"{name}: signature", signature.hex(), v["signature"])
        check(f"{name}: encoding", (fields + signature).hex(), v["encoded"])
        check(f"{name}: id", hashlib.blake2b(message, digest_size=32).hexdigest(), v["id"])
        try:
            d = decode(bytes.fromhex(v["encoded"]))
            check(f"{name}: decoded fields",
                  (d["network_id"], d["type"], str(d["epoch"]), d["author"].hex(), str(d["seq"]), d["body"].hex(),
                   d["id"].hex()),
                  (v["network_id"], v["type"], v["epoch"], v["public_key"], v["seq"], v["body"], v["id"]))
        except Refused as e:
            failures.append(f"{name}: reference decoder refused a valid vector ({e})")

    for v in doc["invalid"]:
        try:
            decode(bytes.fromhex(v["encoded"]))
            failures.append(f"invalid '{v['name']}': reference decoder accepted it")
        except Refused as e:
            check(f"invalid '{v['name']}': error code", e.code, v["error"])

    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print(f"statements.json agrees with the spec: {len(doc['valid'])} valid, {len(doc['invalid'])} invalid vectors")


if __name__ == "__main__":
    main()
