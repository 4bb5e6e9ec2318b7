#!/usr/bin/env python3
"""Checks Specs/vectors/*.json (the standard crypto known-answer vectors) against independent
implementations: PyPI `cryptography` (Ed25519, X25519, ChaCha20-Poly1305) and Python's hashlib/hmac
(BLAKE2b, SHA-256, HMAC-SHA256). A typo in a vector file fails here before any Swift test runs.

Usage: python3 Tools/vectors/check_crypto_vectors.py   (pip install cryptography if missing)
"""
import hashlib
import hmac
import json
import pathlib
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "Specs" / "vectors"
failures = []


def check(name, got, want):
    if got != want:
        failures.append(f"{name}: got {got.hex() if isinstance(got, bytes) else got}, want {want.hex() if isinstance(want, bytes) else want}")


def load(name):
    return json.loads((VECTORS / name).read_text())


def raw_public(private_key):
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def x25519_raw(scalar, u):
    return x25519.X25519PrivateKey.from_private_bytes(scalar).exchange(x25519.X25519PublicKey.from_public_bytes(u))


for v in load("ed25519-rfc8032.json")["vectors"]:
    sk = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["secret_key"]))
    msg = bytes.fromhex(v["message"])
    check(f"ed25519 {v['name']} public key", raw_public(sk), bytes.fromhex(v["public_key"]))
    check(f"ed25519 {v['name']} signature", sk.sign(msg), bytes.fromhex(v["signature"]))
    if v["name"] == "TEST 1024":
        check("ed25519 TEST 1024 message length", len(msg), 1023)

x = load("x25519-rfc7748.json")
for v in x["scalar_multiplication"]:
    check(f"x25519 {v['name']}", x25519_raw(bytes.fromhex(v["scalar"]), bytes.fromhex(v["u"])), bytes.fromhex(v["output"]))
k = u = bytes.fromhex(x["iterated"]["start"])
for i in range(1, 1001):
    k, u = x25519_raw(k, u), k
    if i == 1:
        check("x25519 iterated 1", k, bytes.fromhex(x["iterated"]["after_1"]))
check("x25519 iterated 1000", k, bytes.fromhex(x["iterated"]["after_1000"]))
dh = x["diffie_hellman"]
a = x25519.X25519PrivateKey.from_private_bytes(bytes.fromhex(dh["alice_private"]))
b = x25519.X25519PrivateKey.from_private_bytes(bytes.fromhex(dh["bob_private"]))
check("x25519 6.1 alice public", raw_public(a), bytes.fromhex(dh["alice_public"]))
check("x25519 6.1 bob public", raw_public(b), bytes.fromhex(dh["bob_public"]))
check("x25519 6.1 shared (alice)", a.exchange(b.public_key()), bytes.fromhex(dh["shared_secret"]))
check("x25519 6.1 shared (bob)", b.exchange(a.public_key()), bytes.fromhex(dh["shared_secret"]))

for v in load("chacha20poly1305-rfc8439.json")["vectors"]:
    aead = ChaCha20Poly1305(bytes.fromhex(v["key"]))
    sealed = aead.encrypt(bytes.fromhex(v["nonce"]), bytes.fromhex(v["plaintext"]), bytes.fromhex(v["aad"]))
    check(f"chacha20poly1305 {v['name']}", sealed, bytes.fromhex(v["ciphertext"] + v["tag"]))

for v in load("hmac-sha256-rfc4231.json")["vectors"]:
    mac = hmac.new(bytes.fromhex(v["key"]), bytes.fromhex(v["data"]), hashlib.sha256).digest()
    check(f"hmac-sha256 {v['name']}", mac, bytes.fromhex(v["mac"]))

for v in load("blake2b.json")["vectors"]:
    d = hashlib.blake2b(bytes.fromhex(v["input"]), digest_size=v["output_length"], key=bytes.fromhex(v["key"])).digest()
    check(f"blake2b {v['name']}", d, bytes.fromhex(v["digest"]))

for v in load("sha256-fips180.json")["vectors"]:
    check(f"sha256 {v['name']}", hashlib.sha256(bytes.fromhex(v["input"])).digest(), bytes.fromhex(v["digest"]))

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("all crypto vectors agree with cryptography/hashlib")
