#!/usr/bin/env python3
"""Creates Specs/vectors/statements.json with the Swift implementation (the built `chorus`
binary): each valid vector is signed by `chorus statement sign`; the invalid ones are byte edits
of a valid one, each labelled with the error code a decoder must report.

This was run once to create the file. Do not regenerate the vectors after changing the format:
they pin the format, and Tools/vectors/check_statements.py checks them independently.

Usage: swift build --product chorus && python3 Tools/vectors/generate_statements.py
"""
import json
import os
import pathlib
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHORUS = ROOT / ".build" / "debug" / "chorus"
OUT = ROOT / "Specs" / "vectors" / "statements.json"

VALID = [
    dict(name="text hello", seed="01" * 32, network_id="chorus-devnet", type="text", epoch=7, seq=1, body=b"hello".hex()),
    dict(name="vote with empty body", seed="9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         network_id="n", type="vote", epoch=0, seq=0, body=""),
    dict(name="maximal integers, 64-byte network id, 32-byte type name", seed="02" * 32,
         network_id="a" * 20 + "-" + "0123456789" + "." + "z" * 20 + "_" + "b" * 11,
         type="x-type-name-of-maximum-length-32", epoch=2**64 - 1, seq=2**64 - 1,
         body=bytes(range(256)).hex() + "00ff00ff"),
    dict(name="peer-record with binary body", seed="".join(f"{i:02x}" for i in range(32)),
         network_id="chorus-lab.1", type="peer-record", epoch=1000, seq=42, body="00" * 3 + "ffee" + "7f80"),
    dict(name="type unknown to version 1 (representable, relayed)", seed="03" * 32, network_id="chorus-devnet",
         type="future-kind-9", epoch=12, seq=300, body=b'{"any": "bytes"}'.hex()),
]


def sign(v, workdir):
    key = pathlib.Path(workdir) / f"{v['name'].replace(' ', '_')[:20]}.key"
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, f"# test vector key\ned25519-seed: {v['seed']}\n".encode())
    os.close(fd)
    body = pathlib.Path(workdir) / "body.bin"
    body.write_bytes(bytes.fromhex(v["body"]))
    out = subprocess.run([str(CHORUS), "statement", "sign", "--key", str(key), "--network", v["network_id"],
                          "--type", v["type"], "--epoch", str(v["epoch"]), "--seq", str(v["seq"]),
                          "--in", str(body), "--json"], check=True, capture_output=True, text=True).stdout
    signed = json.loads(out)
    public_key = subprocess.run([str(CHORUS), "key", "show", str(key)], check=True, capture_output=True,
                                text=True).stdout.strip()
    encoded = bytes.fromhex(signed["encoded"])
    prefix = b"chorus/v1/" + v["type"].encode() + b"\x00"
    return dict(name=v["name"], seed=v["seed"], public_key=public_key, network_id=v["network_id"], type=v["type"],
                epoch=str(v["epoch"]), seq=str(v["seq"]), body=v["body"], encoded=signed["encoded"],
                signed_message=(prefix + encoded[:-64]).hex(), signature=encoded[-64:].hex(), id=signed["id"])


def u32(n):
    return n.to_bytes(4, "little")


def invalid_from(first):
    e = bytes.fromhex(first["encoded"])
    net_end = 1 + 4 + len(first["network_id"])   # "chorus-devnet"
    type_len_at = net_end
    type_at = net_end + 4
    body_len_at = type_at + len(first["type"]) + 8 + 32 + 8
    cases = [
        ("empty input", b"", "truncated"),
        ("last signature byte missing", e[:-1], "truncated"),
        ("one trailing byte", e + b"\x00", "trailing-bytes"),
        ("version 2", b"\x02" + e[1:], "unknown-version"),
        ("version 0", b"\x00" + e[1:], "unknown-version"),
        ("network id with a capital letter", e[:5] + b"C" + e[6:], "invalid-value"),
        ("empty network id", e[:1] + u32(0) + e[net_end:], "invalid-value"),
        ("network id length 65", e[:1] + u32(65) + e[5:], "length-over-limit"),
        ("type with a capital letter", e[:type_at] + b"T" + e[type_at + 1:], "invalid-value"),
        ("type with a space", e[:type_at] + b" " + e[type_at + 1:], "invalid-value"),
        ("empty type", e[:type_len_at] + u32(0) + e[type_at + len(first["type"]):], "invalid-value"),
        ("type length 33", e[:type_len_at] + u32(33) + e[type_at:], "length-over-limit"),
        ("body length 1 MiB + 1", e[:body_len_at] + u32(2**20 + 1) + e[body_len_at + 4:], "length-over-limit"),
        ("body length 1 MiB, input shorter", e[:body_len_at] + u32(2**20) + e[body_len_at + 4:], "truncated"),
        ("body length 0xffffffff", e[:body_len_at] + u32(2**32 - 1) + e[body_len_at + 4:], "length-over-limit"),
        ("signature byte 0 flipped", e[:-64] + bytes([e[-64] ^ 1]) + e[-63:], "bad-signature"),
        ("body byte changed", e[:body_len_at + 4] + bytes([e[body_len_at + 4] ^ 0x20]) + e[body_len_at + 5:],
         "bad-signature"),
        ("type changed from text to vote, signature kept (domain separation)",
         e[:type_at] + b"vote" + e[type_at + 4:], "bad-signature"),
    ]
    return [dict(name=n, encoded=b.hex(), error=code) for n, b, code in cases]


def main():
    with tempfile.TemporaryDirectory() as workdir:
        valid = [sign(v, workdir) for v in VALID]
    assert valid[0]["type"] == "text" and valid[0]["network_id"] == "chorus-devnet"
    doc = {
        "description": "Signed statements (Specs/statements.md), version 1. Integers are decimal strings (u64). "
                       "seed is the RFC 8032 Ed25519 private key; signed_message = 'chorus/v1/' || type || 0x00 || "
                       "encoded minus its last 64 bytes; id = BLAKE2b-256(signed_message). Each invalid entry "
                       "must fail to decode with the given error code (Specs/encoding.md).",
        "valid": valid,
        "invalid": invalid_from(valid[0]),
    }
    OUT.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {OUT} ({len(valid)} valid, {len(doc['invalid'])} invalid)")


if __name__ == "__main__":
    main()
