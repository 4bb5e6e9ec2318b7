"""The public inference tape (Specs/inference.md §4), vectorised with numpy.

A sampled token is `argmax over the kept set of z_i + g_i`, z = logits / T after top-k and top-p,
and g_i the Gumbel value of the counter generator keyed by the inference seed at counter
`position · vocab + i`. No state carries between positions, so a validator recomputes each choice
from its own teacher-forced logits. The Swift worker (ChorusCrypto/InferenceTape.swift) and this
module choose the same token for the same logits (tests/test_tape.py against
Specs/vectors/inference.json).
"""
from __future__ import annotations

import math

import numpy as np

from . import rng

_TWO_POW_MINUS_53 = 2.0 ** -53


def uniforms(key: bytes, position: int, ids: np.ndarray, vocab: int) -> np.ndarray:
    """u = (2·(w >> 12) + 1) · 2^-53 for the given token ids at `position` (float64, exact)."""
    k = tuple(np.uint64(x) for x in rng.key_words(key))
    counters = np.uint64(position) * np.uint64(vocab) + ids.astype(np.uint64)
    w = rng._words_from(k, counters)
    odd = ((w >> np.uint64(12)) << np.uint64(1)) | np.uint64(1)
    return odd.astype(np.float64) * _TWO_POW_MINUS_53


def gumbels(key: bytes, position: int, ids: np.ndarray, vocab: int) -> np.ndarray:
    """g = −log(−log u), float64."""
    return -np.log(-np.log(uniforms(key, position, ids, vocab)))


def is_greedy(temperature: float, top_k: int) -> bool:
    return temperature == 0.0 or top_k == 1


def choose(logits: np.ndarray, temperature: float, top_k: int, top_p: float, key: bytes | None, position: int,
           against: int | None = None) -> dict:
    """The tape's choice for one row of float32 logits: {"token", "used_tape", "kept", "margin",
    "margin_to_other"} (margins float64, math.inf when one token is kept / `against` is not kept).
    Raises ValueError for non-finite logits or a sampled request without a key."""
    row = np.asarray(logits, dtype=np.float32)
    v = row.shape[0]
    if v == 0:
        raise ValueError("empty row of logits")
    if not np.all(np.isfinite(row)):
        raise ValueError(f"logit {int(np.argmin(np.isfinite(row)))} is not finite; the tape needs finite logits")
    if is_greedy(temperature, top_k):
        best = int(np.argmax(row))  # the first (lowest) index of the maximum
        rest = np.delete(row, best)
        margin = float(row[best]) - float(rest.max()) if v > 1 else math.inf
        to_other = None if against is None else float(row[best]) - float(row[against])
        return {"token": best, "used_tape": False, "kept": v, "margin": margin, "margin_to_other": to_other}
    if key is None:
        raise ValueError("sampling with temperature > 0 needs a tape seed")
    z = row.astype(np.float64) / temperature
    truncate_k = 0 < top_k < v
    if truncate_k or top_p < 1.0:
        order = np.lexsort((np.arange(v), -z))  # z descending, ties by id ascending
        if truncate_k:
            order = order[:top_k]
        if top_p < 1.0:
            z0 = z[order[0]]
            # S: sequential sum in id order (np.cumsum adds left to right; np.sum would pair terms).
            total = np.cumsum(np.exp(z[np.sort(order)] - z0))[-1]
            c = np.cumsum(np.exp(z[order] - z0))  # sequential sums in z order
            reached = c >= top_p * total
            keep = int(np.argmax(reached)) + 1 if reached.any() else len(order)
            order = order[:keep]
        kept = order
    else:
        kept = np.arange(v)
    scores = z[kept] + gumbels(key, position, kept, v)
    top = scores.max()
    best = int(kept[scores == top].min())  # ties: the lowest id
    if len(kept) > 1:
        others = scores[kept != best]
        margin = float(top - others.max())
    else:
        margin = math.inf
    to_other = None
    if against is not None:
        where = np.nonzero(kept == against)[0]
        to_other = float(top - scores[where[0]]) if len(where) else math.inf
    return {"token": best, "used_tape": True, "kept": int(len(kept)), "margin": margin, "margin_to_other": to_other}
