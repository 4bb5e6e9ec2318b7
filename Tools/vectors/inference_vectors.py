#!/usr/bin/env python3
"""Independent Python reference for Specs/inference.md. Writes Specs/vectors/inference.json, which
ChorusProtocolTests, ChorusComputeTests and Tools/pyworker/tests load:

  request      the canonical request's encoding and digest
  ticket       ticket encoding, request id, gateway signature, inference seed
  tape         words, uniforms and Gumbel values of the tape at (position, token)
  choices      rows of fp32 logits with sampling parameters -> the tape's choice, kept-set size, margins
  receipt      receipt encoding, output digest, receipt id, executor signature, the signed encoding
  finish       output / stop rules -> the finish reason they reach (or why they are refused)
  check        the member's check proof, seed and draw; check rates by traffic; decisions
  flip_test    the most flips that pass at n positions, exact
  malformed    encodings a decoder must refuse, with the error code

Usage: python3 Tools/vectors/inference_vectors.py   (standard library + PyPI cryptography for Ed25519)

Everything is computed here from the spec's text, scalar and in plain Python (math.log / math.exp are
the C library's binary64 functions), without the Swift code or the numpy worker.
"""
import hashlib
import json
import math
import pathlib
import random
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "Specs" / "vectors"
M64 = (1 << 64) - 1


def H(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


def u8(x): return struct.pack("<B", x)
def u32(x): return struct.pack("<I", x)
def u64(x): return struct.pack("<Q", x)
def string(s: str) -> bytes:
    b = s.encode()
    return u32(len(b)) + b
def array(items, enc): return u32(len(items)) + b"".join(enc(x) for x in items)


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def f32_hex(x: float) -> str:
    return struct.pack("<f", x).hex()


def f64_hex(x: float) -> str:
    return struct.pack("<d", x).hex()


# ---------------------------------------------------------------- keys

def key(seed_byte: int):
    sk = Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32)
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sk, pk


# ---------------------------------------------------------------- the tape (§4)

def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def word(k, c):
    w = struct.unpack("<4Q", k)
    return mix64(mix64(mix64(mix64((c & M64) ^ w[0]) ^ w[1]) ^ w[2]) ^ w[3])


def unit(w):
    return float(2 * (w >> 12) + 1) * 2.0 ** -53


def gumbel(u):
    return -math.log(-math.log(u))


def choose(logits, t_m, top_k, p_m, seed, position, against=None):
    """The tape's choice for one row of fp32 logits (Python floats holding fp32 values)."""
    v = len(logits)
    if t_m == 0 or top_k == 1:
        best = max(range(v), key=lambda i: (logits[i], -i))
        others = [logits[i] for i in range(v) if i != best]
        margin = logits[best] - max(others) if others else math.inf
        to_other = None if against is None else logits[best] - logits[against]
        return {"token": best, "used_tape": False, "kept": v, "margin": margin, "margin_to_other": to_other}
    t = t_m / 1e6
    z = [x / t for x in logits]
    kept = list(range(v))
    if (0 < top_k < v) or p_m < 1_000_000:
        order = sorted(range(v), key=lambda i: (-z[i], i))
        if 0 < top_k < v:
            order = order[:top_k]
        if p_m < 1_000_000:
            p = p_m / 1e6
            total = 0.0
            for i in sorted(order):  # S: sequential, in id order
                total += math.exp(z[i] - z[order[0]])
            target = p * total
            s, keep = 0.0, len(order)
            for j, i in enumerate(order):  # c_j: sequential, in z order
                s += math.exp(z[i] - z[order[0]])
                if s >= target:
                    keep = j + 1
                    break
            order = order[:keep]
        kept = order
    scores = {i: z[i] + gumbel(unit(word(seed, position * v + i))) for i in kept}
    best = max(kept, key=lambda i: (scores[i], -i))
    others = [scores[i] for i in kept if i != best]
    margin = scores[best] - max(others) if others else math.inf
    to_other = None
    if against is not None:
        to_other = scores[best] - scores[against] if against in scores else math.inf
    return {"token": best, "used_tape": True, "kept": len(kept), "margin": margin, "margin_to_other": to_other}


def jnum(x):
    """JSON has no infinity: +inf is written as null."""
    return None if x is None or math.isinf(x) else x


# ---------------------------------------------------------------- request, ticket, receipt

def request_encoding(r):
    return (u8(1) + string(r["model"]) + array(r["prompt_tokens"], u32) + u32(r["max_tokens"]) + u32(r["temperature"])
            + u32(r["top_k"]) + u32(r["top_p"]) + array(r["stop_tokens"], u32) + array(r["stop_sequences"], string))


def ticket_encoding(t):
    return (u8(1) + string(t["network_id"]) + u64(t["epoch"]) + bytes.fromhex(t["gateway"]) + u64(t["nonce"])
            + u64(t["issued_at_ms"]) + bytes.fromhex(t["request_digest"]))


def output_digest(ids):
    return H(b"chorus/inference/output/1\x00" + array(ids, u32))


def receipt_encoding(r):
    return (u8(1) + bytes.fromhex(r["request_id"]) + bytes.fromhex(r["request_digest"]) + string(r["model"])
            + bytes.fromhex(r["seed"]) + bytes.fromhex(r["gateway"]) + bytes.fromhex(r["executor"]) + u32(r["prompt_tokens"])
            + bytes.fromhex(r["output_digest"]) + u32(r["output_tokens"]) + u8(r["finish_reason"]) + u64(r["started_at_ms"])
            + u32(r["first_token_ms"]) + u32(r["total_ms"]))


FINISH = {"stop": 1, "length": 2, "cancelled": 3}


def protocol_vectors():
    gateway_sk, gateway_pk = key(0x11)
    executor_sk, executor_pk = key(0x22)
    validator_sk, validator_pk = key(0x33)
    request = {"model": "HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1", "prompt_tokens": [1, 9690, 198, 2683, 314, 260, 3575, 282, 4649, 47, 2, 198],
               "max_tokens": 8, "temperature": 700_000, "top_k": 40, "top_p": 950_000, "stop_tokens": [0, 2],
               "stop_sequences": ["\n\n", "User:"]}
    enc = request_encoding(request)
    digest = H(b"chorus/inference/request/1\x00" + enc)
    ticket = {"network_id": "chorus-devnet", "epoch": 42, "gateway": gateway_pk.hex(), "nonce": 7, "issued_at_ms": 1_765_000_000_123,
              "request_digest": digest.hex()}
    tenc = ticket_encoding(ticket)
    request_id = H(b"chorus/inference/id/1\x00" + tenc)
    gateway_sig = gateway_sk.sign(b"chorus/inference/request-sig/1\x00" + request_id)
    beacon = H(b"beacon of epoch 42")
    seed = H(b"chorus/inference/seed/1\x00" + request_id + gateway_sig + beacon)

    output = [504, 3575, 28, 1060, 2]
    receipt = {"request_id": request_id.hex(), "request_digest": digest.hex(), "model": request["model"], "seed": seed.hex(),
               "gateway": gateway_pk.hex(), "executor": executor_pk.hex(), "prompt_tokens": len(request["prompt_tokens"]),
               "output_digest": output_digest(output).hex(), "output_tokens": len(output), "finish_reason": FINISH["stop"],
               "started_at_ms": 1_765_000_000_200, "first_token_ms": 35, "total_ms": 140}
    renc = receipt_encoding(receipt)
    receipt_id = H(b"chorus/inference/receipt/1\x00" + renc)
    executor_sig = executor_sk.sign(b"chorus/inference/receipt-sig/1\x00" + receipt_id)

    check_msg = b"chorus/inference/check/1\x00" + string("chorus-devnet") + receipt_id
    proof = validator_sk.sign(check_msg)
    check_seed = H(b"chorus/inference/check-seed/1\x00" + proof)
    draw = struct.unpack("<Q", check_seed[:8])[0]

    def rate(traffic, full, floor):
        if traffic <= full:
            return [1, 1]
        if full * floor[1] < floor[0] * traffic:
            return list(floor)
        return [full, traffic]

    rates = []
    for traffic, full, floor in [(0, 200, (1, 100)), (200, 200, (1, 100)), (201, 200, (1, 100)), (2000, 200, (1, 100)),
                                 (20000, 200, (1, 100)), (1_000_000, 200, (1, 100)), (5000, 0, (1, 20))]:
        r = rate(traffic, full, floor)
        rates.append({"traffic": traffic, "check_full_traffic": full, "check_rate_floor": list(floor), "rate": r,
                      "checked": draw * r[1] < r[0] << 64})
    # Decisions over many seeds at one rate: the draw is exact, so the count is too.
    decisions = []
    for i in range(64):
        s = H(b"decision seed " + bytes([i]))
        d = struct.unpack("<Q", s[:8])[0]
        decisions.append({"seed": s.hex(), "checked_at_1_10": d * 10 < 1 << 64, "checked_at_3_4": d * 4 < 3 << 64})

    return {
        "keys": {"gateway_seed": "11" * 32, "gateway": gateway_pk.hex(), "executor_seed": "22" * 32, "executor": executor_pk.hex(),
                 "validator_seed": "33" * 32, "validator": validator_pk.hex()},
        "request": dict(request, encoding=enc.hex(), digest=digest.hex()),
        "ticket": dict(ticket, encoding=tenc.hex(), request_id=request_id.hex(), gateway_signature=gateway_sig.hex(),
                       beacon=beacon.hex(), seed=seed.hex()),
        "receipt": dict(receipt, output=output, encoding=renc.hex(), id=receipt_id.hex(), signature=executor_sig.hex(),
                        signed_encoding=(renc + executor_sig).hex()),
        "check": {"network_id": "chorus-devnet", "receipt_id": receipt_id.hex(), "message": check_msg.hex(), "proof": proof.hex(),
                  "seed": check_seed.hex(), "draw": str(draw), "rates": rates, "decisions": decisions},
    }, seed


# ---------------------------------------------------------------- tape and choices

def tape_vectors(seed):
    out = []
    for k, label in [(bytes(range(32)), "000102…1f"), (seed, "the ticket's seed")]:
        entries = []
        for position, token, vocab in [(0, 0, 256), (0, 1, 256), (0, 255, 256), (1, 0, 256), (3, 17, 49152), (100, 49151, 49152),
                                       (8191, 12345, 49152)]:
            c = position * vocab + token
            w = word(k, c)
            u = unit(w)
            g = gumbel(u)
            entries.append({"position": position, "token": token, "vocab": vocab, "counter": c, "word": f"{w:016x}",
                            "u": f64_hex(u), "g": f64_hex(g), "g_value": g})
        out.append({"seed": k.hex(), "about": label, "entries": entries})
    extremes = [{"word": f"{w:016x}", "u": f64_hex(unit(w)), "g": f64_hex(gumbel(unit(w))), "g_value": gumbel(unit(w))}
                for w in (0, M64, 1 << 63, (1 << 12) - 1)]
    return {"streams": out, "extremes": extremes}


def choice_vectors(seed):
    rnd = random.Random(20261208)
    cases = []

    def add(name, logits, t_m, top_k, p_m, position, k=seed, against=None):
        logits = [f32(x) for x in logits]
        c = choose(logits, t_m, top_k, p_m, k, position, against)
        cases.append({"name": name, "seed": k.hex(), "position": position, "temperature": t_m, "top_k": top_k, "top_p": p_m,
                      "logits": [f32_hex(x) for x in logits], "token": c["token"], "used_tape": c["used_tape"], "kept": c["kept"],
                      "margin": jnum(c["margin"]), "against": against,
                      "margin_to_other": jnum(c["margin_to_other"]) if against is not None else None,
                      "against_kept": against is not None and c["margin_to_other"] is not None and not math.isinf(c["margin_to_other"])})

    row = [rnd.gauss(0, 3) for _ in range(256)]
    add("greedy", row, 0, 0, 1_000_000, 0)
    add("top_k 1 is greedy", row, 800_000, 1, 1_000_000, 5)
    tie = [0.5] * 16
    tie[3] = tie[9] = 2.0
    add("greedy tie goes to the lower id", tie, 0, 0, 1_000_000, 0, against=9)
    for position in range(6):
        add(f"T=1 full vocabulary, position {position}", row, 1_000_000, 0, 1_000_000, position)
    add("T=0.7 top_k 40 top_p 0.95", row, 700_000, 40, 950_000, 2)
    add("T=1.3 top_p 0.9", row, 1_300_000, 0, 900_000, 4)
    add("T=2 top_k 5", row, 2_000_000, 5, 1_000_000, 1)
    add("T=0.000001 (near greedy)", row, 1, 0, 1_000_000, 0)
    flat = [1.0] * 64
    add("flat row: the tape alone decides", flat, 1_000_000, 0, 1_000_000, 3)
    add("flat row, top_k 8 keeps ids 0..7", flat, 1_000_000, 8, 1_000_000, 3, against=20)
    peaked = [-10.0] * 32
    peaked[7] = 10.0
    add("top_p keeps only the dominant token", peaked, 1_000_000, 0, 500_000, 0, against=8)
    two = [0.0] * 8
    two[2] = two[5] = 1.0
    # Ids 2 and 5 tie (2 sorts first); 0.3 of the mass needs both of them.
    add("top_p with tied logits", two, 1_000_000, 0, 300_000, 1)
    # Two equal tokens and P = 1/2: the first prefix sum equals P·S exactly (1.0 >= 1.0), so only id 0 is kept.
    add("top_p reached exactly keeps the shorter prefix", [1.0, 1.0], 1_000_000, 0, 500_000, 0, against=1)
    for i in range(6):
        vocab = rnd.choice([32, 100, 256, 1000])
        r = [rnd.gauss(0, rnd.choice([1, 2, 5])) for _ in range(vocab)]
        t_m = rnd.choice([300_000, 700_000, 1_000_000, 1_500_000])
        top_k = rnd.choice([0, 0, 10, 50])
        p_m = rnd.choice([1_000_000, 900_000, 950_000, 500_000])
        against = rnd.randrange(vocab)
        add(f"random {i}: V={vocab}", r, t_m, top_k, p_m, rnd.randrange(4096), k=H(bytes([i]) * 7), against=against)
    return cases


# ---------------------------------------------------------------- finish rules and the flip test

def finish_vectors():
    base = {"max_tokens": 4, "stop_tokens": [2, 7]}
    cases = [
        {"output": [5, 6, 2], "stop_sequence_end": None, "reached": "stop"},
        {"output": [5, 6, 8, 9], "stop_sequence_end": None, "reached": "length"},
        {"output": [5, 6], "stop_sequence_end": None, "reached": None},
        {"output": [], "stop_sequence_end": None, "reached": None},
        {"output": [5, 6, 8, 9], "stop_sequence_end": 3, "reached": "stop"},
        {"output": [5, 6, 8], "stop_sequence_end": 2, "reached": "stop"},
        {"output": [5, 2, 8], "stop_sequence_end": None, "error": "past its first stop"},
        {"output": [5, 6, 8], "stop_sequence_end": 1, "error": "past its first stop"},
        {"output": [5, 6, 8, 9, 10], "stop_sequence_end": None, "error": "exceed max_tokens"},
        {"output": [2, 7], "stop_sequence_end": None, "error": "past its first stop"},
        {"output": [7], "stop_sequence_end": None, "reached": "stop"},
    ]
    return {"request": base, "cases": cases}


def max_honest_flips(n, p, alpha):
    """m* − 1 (the most flips that pass), n when no count fails; 0 for n = 0. Exact integers."""
    if n == 0:
        return 0
    a, d = p
    b = d - a
    total = d ** n
    tail = 0
    terms = [math.comb(n, i) * a ** i * b ** (n - i) for i in range(n + 1)]
    tails = [0] * (n + 2)
    for i in range(n, -1, -1):
        tails[i] = tails[i + 1] + terms[i]
    for m in range(n + 1):
        if tails[m] * alpha[1] < alpha[0] * total:
            return m - 1
    return n


def flip_vectors():
    out = []
    for n, p, alpha in [(1, (1, 20), (1, 1000)), (4, (1, 20), (1, 1000)), (8, (1, 20), (1, 1000)), (16, (1, 20), (1, 1000)),
                        (64, (1, 20), (1, 1000)), (256, (1, 20), (1, 1000)), (1024, (1, 20), (1, 1000)),
                        (100, (1, 100), (1, 1000)), (100, (1, 5), (1, 20)), (0, (1, 20), (1, 1000))]:
        out.append({"positions": n, "honest_flip_rate": list(p), "flip_p_value": list(alpha), "max_honest_flips": max_honest_flips(n, p, alpha)})
    return out


def malformed_vectors(request_enc: bytes, receipt_enc: bytes):
    cases = []
    r = bytearray(request_enc)
    cases.append({"what": "request", "hex": (b"\x02" + request_enc[1:]).hex(), "error": "unknown-version"})
    cases.append({"what": "request", "hex": request_enc[:-1].hex(), "error": "truncated"})
    cases.append({"what": "request", "hex": (request_enc + b"\x00").hex(), "error": "trailing-bytes"})
    # Stop tokens out of order: [2, 0].
    bad = request_encoding({"model": "m", "prompt_tokens": [1], "max_tokens": 1, "temperature": 0, "top_k": 0, "top_p": 1_000_000,
                            "stop_tokens": [2, 0], "stop_sequences": []})
    cases.append({"what": "request", "hex": bad.hex(), "error": "invalid-value"})
    bad = request_encoding({"model": "m", "prompt_tokens": [1], "max_tokens": 0, "temperature": 0, "top_k": 0, "top_p": 1_000_000,
                            "stop_tokens": [], "stop_sequences": []})
    cases.append({"what": "request", "hex": bad.hex(), "error": "invalid-value"})
    bad = request_encoding({"model": "m", "prompt_tokens": [1], "max_tokens": 1, "temperature": 0, "top_k": 0, "top_p": 0,
                            "stop_tokens": [], "stop_sequences": []})
    cases.append({"what": "request", "hex": bad.hex(), "error": "invalid-value"})
    # A prompt count above 131072 is refused before reading.
    cases.append({"what": "request", "hex": (u8(1) + string("m") + u32(131_073)).hex(), "error": "length-over-limit"})
    rec = bytearray(receipt_enc)
    finish_at = len(receipt_enc) - 8 - 4 - 4 - 1
    rec[finish_at] = 4
    cases.append({"what": "receipt", "hex": bytes(rec).hex(), "error": "invalid-value"})
    rec = bytearray(receipt_enc)
    # 9000 output tokens: above the 8192 limit.
    rec[finish_at - 4:finish_at] = u32(9000)
    cases.append({"what": "receipt", "hex": bytes(rec).hex(), "error": "invalid-value"})
    cases.append({"what": "signed_receipt", "hex": receipt_enc.hex(), "error": "truncated"})
    return cases


def main():
    protocol, seed = protocol_vectors()
    vectors = {
        "about": "Vectors of Specs/inference.md, from Tools/vectors/inference_vectors.py (pure Python, Ed25519 from PyPI cryptography). "
                 "Hex strings are raw bytes; fp32 logits and fp64 tape values are little-endian IEEE hex; margins are binary64 "
                 "numbers (null = +infinity); fractions are [numerator, denominator]; draw is a u64 in decimal.",
        **protocol,
        "tape": tape_vectors(seed),
        "choices": choice_vectors(seed),
        "finish": finish_vectors(),
        "flip_test": flip_vectors(),
        "malformed": malformed_vectors(bytes.fromhex(protocol["request"]["encoding"]), bytes.fromhex(protocol["receipt"]["encoding"])),
    }
    path = VECTORS / "inference.json"
    path.write_text(json.dumps(vectors, indent=1, ensure_ascii=False) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
