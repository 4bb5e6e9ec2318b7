"""Token generation (greedy or sampled) and teacher-forced scoring with top-k log-probabilities,
over any backend runner that offers `new_cache` and `token_logits` (Specs/worker.md §6).

Reported log-probabilities are always those of the model's raw distribution (log-softmax of the
logits, temperature 1, no truncation), so the prover's generation, its own scoring and a
validator's scoring all report the same quantity.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import struct
import threading
from typing import Iterator, Protocol

import numpy as np

from . import tape

SAMPLE_TAG = b"chorus/worker/sample/1\x00"


class TokenRunner(Protocol):
    config: object

    def new_cache(self, batch: int = 1, capacity: int | None = None): ...

    def token_logits(self, tokens: np.ndarray, cache, rows: slice | None = None) -> np.ndarray: ...


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """float64 log-softmax of one row of logits."""
    z = np.asarray(logits, dtype=np.float64)
    m = z.max()
    return z - (m + np.log(np.sum(np.exp(z - m))))


def top_entries(logprobs: np.ndarray, k: int) -> list[list]:
    """The k best [id, logprob] pairs, highest first; ties go to the lower id."""
    if k <= 0:
        return []
    k = min(k, logprobs.shape[0])
    idx = np.argpartition(-logprobs, k - 1)[:k]
    idx = sorted(idx.tolist(), key=lambda i: (-logprobs[i], i))
    return [[int(i), float(logprobs[i])] for i in idx]


@dataclasses.dataclass(frozen=True)
class Sampling:
    """temperature 0 or top_k 1 = greedy (argmax, ties to the lower id); otherwise the public tape
    of Specs/inference.md §4 (tape.py) after temperature, top_k (0 = off) and top_p (1 = off),
    keyed by `tape_seed`, or by sample_key(seed) for a u64 `seed` (random when neither is given)."""

    temperature: float = 0.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int | None = None
    tape_seed: bytes | None = None

    @property
    def greedy(self) -> bool:
        return tape.is_greedy(self.temperature, self.top_k)

    def resolved_seed(self) -> int:
        return self.seed if self.seed is not None else int.from_bytes(os.urandom(8), "little")


def sample_key(seed: int) -> bytes:
    """The tape key of a u64 worker seed: BLAKE2b-256("chorus/worker/sample/1\0" ‖ u64 seed)."""
    return hashlib.blake2b(SAMPLE_TAG + struct.pack("<Q", seed), digest_size=32).digest()


def choose(logits: np.ndarray, sampling: Sampling, key: bytes | None, step: int) -> dict:
    """The tape's decision at output position `step` (tape.choose)."""
    return tape.choose(logits, sampling.temperature, sampling.top_k, sampling.top_p, None if sampling.greedy else key, step)


def tape_line(choice: dict) -> dict | None:
    """The `tape` of a token line: absent when greedy; margin omitted when infinite (one kept token)."""
    if not choice["used_tape"]:
        return None
    out = {"choice": choice["token"], "kept": choice["kept"]}
    if math.isfinite(choice["margin"]):
        out["margin"] = choice["margin"]
    return out


def generate(runner: TokenRunner, prompt: list[int], max_tokens: int, sampling: Sampling, top_logprobs: int,
             stop_ids: set[int], cancel: threading.Event | None = None, compute=None) -> Iterator[dict]:
    """Yields one dict per generated token {"id", "logprob", "top"}, then a final
    {"finish_reason": "stop" | "length" | "cancelled", "seed"}. `compute` is a context-manager
    factory taken around each forward pass (the worker's compute gate)."""
    seed = None
    key = None
    if not sampling.greedy:
        if sampling.tape_seed is not None:
            key = sampling.tape_seed
        else:
            seed = sampling.resolved_seed()
            key = sample_key(seed)
    capacity = len(prompt) + max_tokens
    gate = compute or _no_gate
    with gate():
        cache = runner.new_cache(1, capacity)
        logits = runner.token_logits(np.asarray([prompt], dtype=np.int64), cache)[0, -1]
    for step in range(max_tokens):
        if cancel is not None and cancel.is_set():
            yield {"finish_reason": "cancelled", "seed": seed}
            return
        lp = log_softmax(logits)
        choice = choose(logits, sampling, key, step)
        tok = choice["token"]
        line = {"id": tok, "logprob": float(lp[tok]), "top": top_entries(lp, top_logprobs)}
        tape_info = tape_line(choice)
        if tape_info is not None:
            line["tape"] = tape_info
        yield line
        if tok in stop_ids:
            yield {"finish_reason": "stop", "seed": seed}
            return
        if step + 1 < max_tokens:
            with gate():
                logits = runner.token_logits(np.asarray([[tok]], dtype=np.int64), cache)[0, -1]
    yield {"finish_reason": "length", "seed": seed}


def score(runner: TokenRunner, prompt: list[int], completion: list[int], top_logprobs: int, compute=None) -> list[dict]:
    """Teacher forcing: one pass over prompt + completion; per completion token its log-probability
    given everything before it, and the top-k alternatives at that position."""
    ids = np.asarray([prompt + completion], dtype=np.int64)
    n = len(prompt)
    with (compute or _no_gate)():
        logits = runner.token_logits(ids, None, rows=slice(n - 1, n - 1 + len(completion)))[0]
    out = []
    for t, tok in enumerate(completion):
        lp = log_softmax(logits[t])
        out.append({"id": tok, "logprob": float(lp[tok]), "top": top_entries(lp, top_logprobs)})
    return out


class _NoGate:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _no_gate():
    return _NoGate()
