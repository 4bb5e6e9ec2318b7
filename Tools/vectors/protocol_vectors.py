#!/usr/bin/env python3
"""Independent Python reference for the epoch protocol (Specs/epochs.md, poc-commitments.md,
validation.md, weights.md). Writes the JSON vectors that ChorusProtocolTests load:

  Specs/vectors/poc-commitments.json   sparse Merkle sum tree roots and proofs
  Specs/vectors/beacon.json            beacon commitments, epoch seeds, sub-seeds, confirmation window seeds
  Specs/vectors/validation.json        leaf sampling, exact binomial thresholds, detection probabilities
  Specs/vectors/weights.json           weight arithmetic (multiplier, caps, penalties, shares) and the cap rule

Usage: python3 Tools/vectors/protocol_vectors.py   (standard library only)
"""
import hashlib
import json
from fractions import Fraction
from math import comb
import pathlib
import struct

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "Specs" / "vectors"


def H(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


def u8(x): return struct.pack("<B", x)
def u32(x): return struct.pack("<I", x)
def u64(x): return struct.pack("<Q", x)
def string(s: str) -> bytes:
    b = s.encode()
    return u32(len(b)) + b


# ---------------------------------------------------------------- sparse Merkle sum tree

EMPTY = [H(b"\x00")]
for _ in range(40):
    EMPTY.append(H(b"\x01" + EMPTY[-1] + EMPTY[-1] + u64(0)))


def leaf_hash(nonce, artifact):
    return H(b"\x00" + u64(nonce) + artifact)


def subtree(leaves, height, prefix):
    """(hash, count) of the subtree at `height` whose nonces are `prefix << height ...`; leaves is a dict."""
    lo, hi = prefix << height, (prefix + 1) << height
    inside = [n for n in leaves if lo <= n < hi]
    if not inside:
        return EMPTY[height], 0
    if height == 0:
        return leaf_hash(inside[0], leaves[inside[0]]), 1
    lh, lc = subtree({n: leaves[n] for n in inside}, height - 1, prefix * 2)
    rh, rc = subtree({n: leaves[n] for n in inside}, height - 1, prefix * 2 + 1)
    return H(b"\x01" + lh + rh + u64(lc + rc)), lc + rc


def proof(leaves, depth, index):
    nonces = sorted(leaves)
    nonce = nonces[index]
    siblings = []
    for level in range(depth):
        sibling_prefix = (nonce >> level) ^ 1
        siblings.append(subtree(leaves, level, sibling_prefix))
    return nonce, siblings


def artifact_for(nonce):
    return H(b"artifact" + u64(nonce))[:24]


def commitments_vectors():
    cases = []
    for name, depth, nonces in [
        ("empty-depth-4", 4, []),
        ("one-leaf-depth-4", 4, [5]),
        ("dense-0-to-9-depth-8", 8, list(range(10))),
        ("sparse-depth-24", 24, [0, 1, 2, 1000, 65535, 16777215]),
    ]:
        leaves = {n: artifact_for(n) for n in nonces}
        root, count = subtree(leaves, depth, 0)
        proofs = []
        for index in sorted({0, len(nonces) // 2, len(nonces) - 1}) if nonces else []:
            nonce, siblings = proof(leaves, depth, index)
            proofs.append({
                "index": index, "nonce": nonce, "artifact": leaves[nonce].hex(),
                "siblings": [{"hash": h.hex(), "count": c} for h, c in siblings],
            })
        cases.append({
            "name": name, "depth": depth,
            "leaves": [{"nonce": n, "artifact": leaves[n].hex()} for n in nonces],
            "root": root.hex(), "count": count, "proofs": proofs,
        })
    return {
        "about": "Sparse Merkle sum tree of Specs/poc-commitments.md: leaf = H(00 || u64 nonce || artifact), "
                 "empty_0 = H(00), node = H(01 || left || right || u64 count), H = BLAKE2b-256. Artifacts are "
                 "the first 24 bytes of H('artifact' || u64 nonce). Proof siblings run from the leaf level up.",
        "empty": [e.hex() for e in EMPTY[:5]],
        "cases": cases,
    }


# ---------------------------------------------------------------- beacon

def beacon_commitment(network, author, epoch, reveal):
    return H(b"chorus/beacon/commit/1\x00" + string(network) + author + u64(epoch) + reveal)


def epoch_seed(network, epoch, previous, reveals):
    body = b"".join(a + r for a, r in sorted(reveals))
    return H(b"chorus/beacon/seed/1\x00" + string(network) + u64(epoch) + previous + u32(len(reveals)) + body)


def sub_seed(seed, purpose):
    return H(b"chorus/beacon/sub/1\x00" + string(purpose) + seed)


def confirmation_window_seed(seed, window):
    return H(b"chorus/confirmation/seed/1\x00" + u32(window) + sub_seed(seed, "confirmation"))


def beacon_vectors():
    network = "chorus-devnet"
    previous = H(b"previous table")
    authors = [bytes([i]) * 32 for i in (3, 1, 2)]
    reveals = [(a, H(b"reveal" + a)) for a in authors]
    seeds = []
    for subset in ([], reveals[:1], reveals):
        seed = epoch_seed(network, 7, previous, subset)
        seeds.append({
            "reveals": [{"author": a.hex(), "reveal": r.hex()} for a, r in subset],
            "seed": seed.hex(),
            "sub_seeds": {p: sub_seed(seed, p).hex() for p in ("generation", "confirmation", "routing")},
            "confirmation_window_seeds": [confirmation_window_seed(seed, w).hex() for w in (0, 1, 2)],
        })
    return {
        "about": "Beacon of Specs/epochs.md: commitment = H('chorus/beacon/commit/1\\0' || str(network) || author || u64 epoch || r); "
                 "seed = H('chorus/beacon/seed/1\\0' || str(network) || u64 epoch || previous_table_digest || u32 n || (author || r) sorted by author); "
                 "sub_seed = H('chorus/beacon/sub/1\\0' || str(purpose) || seed); "
                 "confirmation_window_seed(w) = H('chorus/confirmation/seed/1\\0' || u32 w || sub_seed(seed, 'confirmation')).",
        "network_id": network, "epoch": 7, "previous_table_digest": previous.hex(),
        "commitments": [{"author": a.hex(), "reveal": r.hex(), "commitment": beacon_commitment(network, a, 7, r).hex()} for a, r in reveals],
        "seeds": seeds,
    }


# ---------------------------------------------------------------- validation

M64 = (1 << 64) - 1


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def word(key, c):
    k = struct.unpack("<4Q", key)
    return mix64(mix64(mix64(mix64(c ^ k[0]) ^ k[1]) ^ k[2]) ^ k[3])


def uniform(key, m, c):
    limit = (1 << 64) - ((1 << 64) % m)
    while True:
        w = word(key, c)
        c += 1
        if w < limit:
            return w % m, c


def sample_indices(seed, count, size):
    swapped, c, out = {}, 0, []
    for i in range(min(size, count)):
        r, c = uniform(seed, count - i, c)
        j = i + r
        at_j, at_i = swapped.get(j, j), swapped.get(i, i)
        swapped[j] = at_i
        out.append(at_j)
    return out


def tail(m, n, p):
    """Exact P[X >= m], X ~ Binomial(n, p), p a Fraction."""
    return sum(comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(m, n + 1))


def min_fraud(n, p, alpha):
    for m in range(n + 1):
        if tail(m, n, p) < alpha:
            return m
    return None


def hypergeometric_detection(population, bad, n, threshold):
    """P[at least `threshold` bad among n drawn without replacement]."""
    total = comb(population, n)
    return sum(comb(bad, k) * comb(population - bad, n - k) for k in range(threshold, min(bad, n) + 1)) / Fraction(total)


def validation_vectors():
    sampling = []
    for label, count, size in [("small", 10, 200), ("medium", 1000, 200), ("large", 1 << 40, 50), ("one", 1, 200)]:
        signature = H(b"signature " + label.encode()) + H(b"second half " + label.encode())
        seed = H(b"chorus/sample-seed/1\x00" + signature)
        sampling.append({"signature": signature.hex(), "seed": seed.hex(), "count": count, "sample_size": size,
                         "indices": sample_indices(seed, count, size)})
    thresholds = []
    for n, p, a in [(200, Fraction(1, 10), Fraction(1, 20)), (200, Fraction(1, 100), Fraction(1, 20)),
                    (200, Fraction(1, 1000), Fraction(1, 100)), (100, Fraction(1, 10), Fraction(1, 20)),
                    (50, Fraction(1, 20), Fraction(1, 20)), (10, Fraction(1, 100), Fraction(1, 20)),
                    (1, Fraction(1, 100), Fraction(1, 20)), (0, Fraction(1, 100), Fraction(1, 20))]:
        thresholds.append({"samples": n, "p_mismatch": [p.numerator, p.denominator],
                           "p_value_threshold": [a.numerator, a.denominator], "min_mismatches_for_fraud": min_fraud(n, p, a)})
    detection = []
    for n, f, p, a in [(200, Fraction(1, 10), Fraction(1, 100), Fraction(1, 20)),
                       (200, Fraction(1, 10), Fraction(1, 10), Fraction(1, 20)),
                       (200, Fraction(1, 5), Fraction(1, 10), Fraction(1, 20)),
                       (100, Fraction(1, 10), Fraction(1, 100), Fraction(1, 20))]:
        m = min_fraud(n, p, a)
        detection.append({"samples": n, "fraud_rate": [f.numerator, f.denominator], "p_mismatch": [p.numerator, p.denominator],
                          "p_value_threshold": [a.numerator, a.denominator], "min_mismatches_for_fraud": m,
                          "probability": float(tail(m, n, f)), "at_least_99_percent": tail(m, n, f) >= Fraction(99, 100)})
    m = min_fraud(200, Fraction(1, 100), Fraction(1, 20))
    finite = [{"committed": c, "faked": c // 10, "samples": 200, "probability": float(hypergeometric_detection(c, c // 10, 200, m))}
              for c in (1000, 10000, 100000)]
    return {
        "about": "Validation of Specs/validation.md. sampling: seed = H('chorus/sample-seed/1\\0' || signature); indices = partial "
                 "Fisher-Yates over [0, count) with uniform(seed, count - i) (poc-kernel.md §2.4) from counter 0, in draw order. "
                 "thresholds: smallest m with P[Binomial(n, p) >= m] < alpha, exact (null when none). detection: "
                 "P[Binomial(n, fraud_rate) >= m*]; finite_population: the same without replacement (hypergeometric).",
        "sampling": sampling, "thresholds": thresholds, "detection": detection, "finite_population": finite,
    }


# ---------------------------------------------------------------- weights

def floor_ratio(value, r):
    return value * r[0] // r[1]


def share_floor(n):
    return {0: Fraction(1), 1: Fraction(1), 2: Fraction(1, 2), 3: Fraction(2, 5)}.get(n, Fraction(3, 10))


def cap_shares(weights, share):
    """weights: dict id -> int. Returns the capped dict (Specs/weights.md §6.6)."""
    if share[0] == 0 or not weights:
        return dict(weights)
    s = max(Fraction(share[0], share[1]), share_floor(len(weights)))
    if s >= 1:
        return dict(weights)
    ordered = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
    for k in range(len(ordered)):
        if k * s.numerator >= s.denominator:
            break
        rest = sum(w for _, w in ordered[k:])
        cap = s.numerator * rest // (s.denominator - k * s.numerator)
        if ordered[k][1] <= cap:
            out = dict(weights)
            for i in range(k):
                out[ordered[i][0]] = cap
            return out
    return dict(weights)


def consensus_weights(case):
    models = case["models"]  # list of {id, wsf, penalty_start_epoch}, sorted by id
    epoch = case["epoch"]
    eq = set(case["equivocators"])
    contributions = {}
    for m in models:
        for p, pw in case["poc_weights"].get(m["id"], {}).items():
            if p not in eq:
                contributions.setdefault(m["id"], {})[p] = floor_ratio(pw, m["wsf"])
    factor = case["group_cap_factor"]
    if factor[0] != 0:
        uncapped = {k: dict(v) for k, v in contributions.items()}
        for m in models:
            if m["id"] == case["initial_model"] or m["id"] not in uncapped:
                continue
            group = uncapped[m["id"]]
            total = sum(group.values())
            elsewhere = sum(values.get(p, 0) for p in group if group[p] > 0 for other, values in uncapped.items() if other != m["id"])
            limit = floor_ratio(elsewhere, factor)
            if total > limit:
                contributions[m["id"]] = {p: c * limit // total for p, c in group.items()}
    raw = {}
    for group in contributions.values():
        for p, c in group.items():
            raw[p] = raw.get(p, 0) + c
    transfers, adjusted = {}, {}
    for p in sorted(raw):
        base = raw[p]
        remaining, penalty = base, 0
        for m in models:
            if epoch < m["penalty_start_epoch"]:
                continue
            mode = case["modes"].get(m["id"], {}).get(p, {"mode": "none"})
            if mode["mode"] == "direct":
                pass
            elif mode["mode"] == "delegate":
                share = min(floor_ratio(base, case["delegation_share"]), remaining)
                remaining -= share
                transfers[mode["target"]] = transfers.get(mode["target"], 0) + share
            elif mode["mode"] == "refuse":
                penalty += floor_ratio(base, case["refusal_penalty"])
            else:
                penalty += floor_ratio(base, case["no_participation_penalty"])
        adjusted[p] = remaining - min(penalty, remaining)
    for t, amount in transfers.items():
        if t not in eq:
            adjusted[t] = adjusted.get(t, 0) + amount
    return cap_shares({p: w for p, w in adjusted.items() if w > 0}, case["max_participant_share"])


def weights_vectors():
    A, B, C, D, E = (bytes([i]) * 32 for i in range(1, 6))
    ids = [A.hex(), B.hex(), C.hex(), D.hex(), E.hex()]
    smol, synth = "HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1", "chorus/synthetic-devnet"
    models = [{"id": smol, "wsf": [1, 1], "penalty_start_epoch": 3}, {"id": synth, "wsf": [1, 5], "penalty_start_epoch": 3}]
    base = {
        "models": models, "initial_model": smol, "epoch": 2, "equivocators": [],
        "group_cap_factor": [0, 1], "max_participant_share": [3, 10],
        "refusal_penalty": [1, 10], "no_participation_penalty": [3, 20], "delegation_share": [1, 20],
        "poc_weights": {smol: {ids[0]: 1000, ids[1]: 1200, ids[2]: 900, ids[3]: 1100},
                        synth: {ids[0]: 5000, ids[1]: 4000, ids[2]: 6000, ids[4]: 5500}},
        "modes": {smol: {ids[0]: {"mode": "direct"}, ids[1]: {"mode": "direct"}, ids[2]: {"mode": "direct"},
                         ids[3]: {"mode": "direct"}, ids[4]: {"mode": "delegate", "target": ids[0]}},
                  synth: {ids[0]: {"mode": "direct"}, ids[1]: {"mode": "direct"}, ids[2]: {"mode": "direct"},
                          ids[3]: {"mode": "refuse"}, ids[4]: {"mode": "direct"}}},
    }
    cases = []

    def add(name, **changes):
        case = json.loads(json.dumps(base))
        case.update(changes)
        case["name"] = name
        case["expected"] = {p: w for p, w in sorted(consensus_weights(case).items())}
        cases.append(case)

    add("before-penalty-start")
    add("penalties-and-shares", epoch=3)
    add("no-declaration-is-none", epoch=3, modes={smol: {i: {"mode": "direct"} for i in ids[:4]}, synth: {i: {"mode": "direct"} for i in ids[:3] + ids[4:]}})
    add("group-cap", group_cap_factor=[1, 2])
    add("participant-cap", poc_weights={smol: {ids[0]: 100000, ids[1]: 1000, ids[2]: 1000, ids[3]: 1000}, synth: {}})
    add("equivocator-gets-nothing", epoch=3, equivocators=[ids[0]])
    caps = []
    for weights, share in [([100, 100, 100, 100, 100], [3, 10]), ([1000, 10, 10, 10, 10], [3, 10]), ([1000, 900, 10, 10, 10], [1, 4]),
                           ([50, 50], [1, 10]), ([5, 1, 1], [1, 10]), ([7], [1, 10]), ([1000, 10, 10, 10, 10], [0, 1])]:
        named = {ids[i]: w for i, w in enumerate(weights)}
        caps.append({"weights": named, "share": share, "expected": cap_shares(named, share)})
    return {
        "about": "Weight arithmetic of Specs/weights.md §6: contributions floor(pocWeight * wsf), optional group cap, "
                 "delegation shares then penalties (from penalty_start_epoch), per-participant cap with floors 1, 1/2, 2/5, 3/10. "
                 "Fractions are [numerator, denominator]; participants are hex ids; modes absent = none.",
        "cases": cases, "cap_shares": caps,
    }


def write(name, value):
    (VECTORS / name).write_text(json.dumps(value, indent=1) + "\n")
    print("wrote", VECTORS / name)


if __name__ == "__main__":
    write("poc-commitments.json", commitments_vectors())
    write("beacon.json", beacon_vectors())
    write("validation.json", validation_vectors())
    write("weights.json", weights_vectors())
