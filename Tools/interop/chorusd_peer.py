#!/usr/bin/env python3
"""An independent Chorus transport peer that talks to a running chorusd over TCP.

Written from Specs/transport.md alone with two PyPI packages, `noiseprotocol` (the Noise XX
handshake and cipher states) and `cryptography` (Ed25519), so it shares no code with the Swift
node. `Tools/interop-noise.sh` installs both and drives this script against chorusd.

    chorusd_peer.py --role initiator --connect HOST:PORT --network ID [--expect-peer HEX] [--hold S]
    chorusd_peer.py --role responder --listen HOST:PORT --network ID [--expect-peer HEX] [--hold S]

After the handshake it prints one JSON line on stdout, {"me": <own Ed25519 key>, "peer": <key the
node proved>}, pings the node and waits for the matching pong, answers the node's pings, stays
connected for --hold seconds, then closes the session with code 1 ("shutting down"). Any
failure is printed on stderr and exits 1.
"""

import argparse
import json
import os
import socket
import sys
import time
import warnings

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from noise.connection import Keypair, NoiseConnection

PROOF_CONTEXT = b"chorus-noise-static-key:"
KIND_DATA, KIND_PING, KIND_PONG, KIND_CLOSE = 0, 1, 2, 3


class PeerError(Exception):
    pass


def raw_public(private_key):
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class Frames:
    """2-byte big-endian length + message, at most 65535 bytes (Specs/transport.md §1)."""

    def __init__(self, sock):
        self.sock = sock

    def send(self, message):
        self.sock.sendall(len(message).to_bytes(2, "big") + bytes(message))

    def _exactly(self, n):
        out = bytearray()
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise PeerError("the node closed the connection")
            out += chunk
        return bytes(out)

    def recv(self):
        return self._exactly(int.from_bytes(self._exactly(2), "big"))


def verify_proof(payload, static_public):
    """Identity proof: Ed25519 key (32) || signature (64) over context || Noise static key."""
    if len(payload) < 96:
        raise PeerError(f"identity proof of {len(payload)} bytes, need at least 96")
    key = Ed25519PublicKey.from_public_bytes(bytes(payload[:32]))
    try:
        key.verify(bytes(payload[32:96]), PROOF_CONTEXT + static_public)
    except InvalidSignature:
        raise PeerError("the node's identity proof does not verify")
    return bytes(payload[:32])


def handshake(role, network, identity, frames):
    noise = NoiseConnection.from_name(b"Noise_XX_25519_ChaChaPoly_SHA256")
    noise.set_prologue(b"chorus/noise/1\x00" + network.encode())
    static_private = os.urandom(32)
    noise.set_keypair_from_private_bytes(Keypair.STATIC, static_private)
    static_public = X25519PrivateKey.from_private_bytes(static_private).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    proof = raw_public(identity) + identity.sign(PROOF_CONTEXT + static_public)
    (noise.set_as_initiator if role == "initiator" else noise.set_as_responder)()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        noise.start_handshake()
    try:
        if role == "initiator":
            frames.send(noise.write_message(b""))
            payload = noise.read_message(frames.recv())
            peer = verify_proof(payload, noise.noise_protocol.handshake_state.rs.public_bytes)
            frames.send(noise.write_message(proof))
        else:
            noise.read_message(frames.recv())
            frames.send(noise.write_message(proof))
            state = noise.noise_protocol.handshake_state
            payload = noise.read_message(frames.recv())
            peer = verify_proof(payload, state.rs.public_bytes)
    except InvalidTag:
        raise PeerError("a handshake message failed to authenticate (wrong network?)")
    if not noise.handshake_finished:
        raise PeerError("the handshake did not finish after three messages")
    return noise, peer


def seal(noise, kind, body=b""):
    return noise.encrypt(bytes([kind]) + body)


def open_frame(noise, frame):
    plaintext = noise.decrypt(bytes(frame))
    if not plaintext or plaintext[0] & 0x70:
        raise PeerError("malformed session header")
    return plaintext[0] & 0x0F, plaintext[0] & 0x80, plaintext[1:]


def run(args):
    identity = Ed25519PrivateKey.generate()
    host, _, port = args.connect.rpartition(":") if args.connect else args.listen.rpartition(":")
    if args.connect:
        sock = socket.create_connection((host, int(port)), timeout=10)
    else:
        server = socket.create_server((host, int(port)))
        server.settimeout(20)
        sock, _ = server.accept()
        sock.settimeout(10)
    frames = Frames(sock)
    noise, peer = handshake(args.role, args.network, identity, frames)
    if args.expect_peer and peer.hex() != args.expect_peer.lower():
        raise PeerError(f"the node proved {peer.hex()}, expected {args.expect_peer}")
    print(json.dumps({"me": raw_public(identity).hex(), "peer": peer.hex()}), flush=True)

    nonce = 0x0102030405060708
    frames.send(seal(noise, KIND_PING, nonce.to_bytes(8, "little")))
    got_pong = False
    deadline = time.monotonic() + args.hold
    sock.settimeout(0.2)
    while not got_pong or time.monotonic() < deadline:
        try:
            kind, more, body = open_frame(noise, frames.recv())
        except socket.timeout:
            if not got_pong and time.monotonic() > deadline + 5:
                raise PeerError("no pong within 5 s")
            continue
        if kind == KIND_PONG:
            if int.from_bytes(body, "little") != nonce:
                raise PeerError("pong with the wrong nonce")
            got_pong = True
        elif kind == KIND_PING:
            frames.send(seal(noise, KIND_PONG, body))
        elif kind == KIND_CLOSE:
            raise PeerError(f"the node closed the session: code {int.from_bytes(body[:2], 'big')} {body[2:].decode()}")
    frames.send(seal(noise, KIND_CLOSE, (1).to_bytes(2, "big") + b"interop test done"))
    sock.close()
    print("ok: handshake, identity proof, ping/pong and close with the node", file=sys.stderr)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--role", choices=["initiator", "responder"], required=True)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--connect", metavar="HOST:PORT")
    where.add_argument("--listen", metavar="HOST:PORT")
    parser.add_argument("--network", required=True)
    parser.add_argument("--expect-peer", metavar="HEX")
    parser.add_argument("--hold", type=float, default=1.0, help="seconds to stay connected after the pong")
    args = parser.parse_args()
    try:
        return run(args)
    except (PeerError, OSError) as error:
        print(f"chorusd_peer: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
