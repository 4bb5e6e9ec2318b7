"""The Chorus PoC kernel, version `chorus-poc/1` (Specs/poc-kernel.md).

Everything that decides *which* computation is done (keys, inputs, Householder vectors, picked
coordinates, rotation vectors) is integer-exact; only the transformer forward pass is floating
point, and its result is compared by distance.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import struct
from typing import Iterable, Protocol, Sequence

import numpy as np

from . import rng

SPEC = "chorus-poc/1"
K_DIM = 12
ROTATIONS = 12
VECTOR_BYTES = 2 * K_DIM

TAG_NONCE = b"chorus/poc/1/nonce\x00"
TAG_LAYER = b"chorus/poc/1/layer\x00"
TAG_PICK = b"chorus/poc/1/pick\x00"
TAG_ROTATE = b"chorus/poc/1/rotate\x00"


def _b2(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


def _model_bytes(model_id: str) -> bytes:
    raw = model_id.encode("utf-8")
    if not raw or len(raw) > 255:
        raise ValueError("model id must be 1 to 255 bytes of UTF-8")
    return struct.pack("<I", len(raw)) + raw


def _check32(name: str, value: bytes) -> None:
    if len(value) != 32:
        raise ValueError(f"{name} must be 32 bytes, got {len(value)}")


def nonce_key(seed: bytes, participant: bytes, model_id: str, seq_len: int, nonce: int) -> bytes:
    """BLAKE2b-256(TAG_NONCE ‖ seed ‖ participant ‖ u32(len) ‖ model ‖ u32(seq_len) ‖ u64(nonce))."""
    _check32("seed", seed)
    _check32("participant", participant)
    if not 0 <= nonce < 1 << 64:
        raise ValueError("nonce must be a u64")
    return _b2(TAG_NONCE + seed + participant + _model_bytes(model_id) + struct.pack("<IQ", seq_len, nonce))


def layer_key(seed: bytes, model_id: str, layer: int) -> bytes:
    """BLAKE2b-256(TAG_LAYER ‖ seed ‖ u32(len) ‖ model ‖ u32(layer))."""
    _check32("seed", seed)
    return _b2(TAG_LAYER + seed + _model_bytes(model_id) + struct.pack("<I", layer))


def pick_key(nkey: bytes) -> bytes:
    return _b2(TAG_PICK + nkey)


def rotate_key(nkey: bytes) -> bytes:
    return _b2(TAG_ROTATE + nkey)


def input_embeddings(nkey: bytes, seq_len: int, hidden: int) -> np.ndarray:
    """[seq_len, hidden] float32: element (t, i) = normal(nonceKey, t·hidden + i)."""
    return rng.normals(nkey, seq_len * hidden).reshape(seq_len, hidden)


def layer_vectors(seed: bytes, model_id: str, layers: int, hidden: int) -> np.ndarray:
    """[layers, hidden] float32 unit Householder vectors: fp32(S_i / sqrt(Σ S²)) per layer."""
    return np.stack([rng.unit_vector(layer_key(seed, model_id, l), hidden).astype(np.float32)
                     for l in range(layers)])


def pick_indices(pkey: bytes, hidden: int, k: int = K_DIM) -> list[int]:
    """Partial Fisher–Yates over [0, hidden): k distinct indices, unbiased by rejection sampling."""
    if hidden < k:
        raise ValueError(f"hidden size {hidden} is smaller than k_dim {k}")
    a = list(range(hidden))
    counter = 0
    for i in range(k):
        r, counter = rng.uniform_below(pkey, hidden - i, counter)
        a[i], a[i + r] = a[i + r], a[i]
    return a[:k]


def rotation_vectors(rkey: bytes, k: int = K_DIM, count: int = ROTATIONS) -> np.ndarray:
    """[count, k] float64 unit vectors; vector r uses values r·k .. r·k+k−1 of the rotate key."""
    return np.stack([rng.unit_vector(rkey, k, start=r * k) for r in range(count)])


def project(hidden: np.ndarray, nkey: bytes, k: int = K_DIM) -> bytes | None:
    """Final hidden state (fp32 [hidden]) → the 24-byte artifact vector, or None when the state is
    not finite or zero (the nonce yields no artifact). Runs in float64 in the order of §5."""
    h = np.asarray(hidden, dtype=np.float64)
    if not np.all(np.isfinite(h)):
        return None
    n1 = math.sqrt(float(np.dot(h, h)))
    if n1 == 0.0 or not math.isfinite(n1):
        return None
    y = h / n1
    z = y[pick_indices(pick_key(nkey), h.shape[0], k)].copy()
    for u in rotation_vectors(rotate_key(nkey), k):
        d = 0.0
        for i in range(k):
            d += u[i] * z[i]
        z -= 2.0 * d * u
    n2 = 0.0
    for i in range(k):
        n2 += z[i] * z[i]
    n2 = math.sqrt(n2)
    if n2 == 0.0 or not math.isfinite(n2):
        return None
    z = z / n2
    return encode_vector(z)


def encode_vector(z: np.ndarray) -> bytes:
    """fp64 → fp32 → IEEE binary16 (round to nearest, ties to even), little-endian."""
    return np.asarray(z, dtype=np.float64).astype(np.float32).astype("<f2").tobytes()


def decode_vector(raw: bytes) -> np.ndarray:
    """24 bytes → float32[12] (exact)."""
    if len(raw) != VECTOR_BYTES:
        raise ValueError(f"a PoC vector is {VECTOR_BYTES} bytes, got {len(raw)}")
    return np.frombuffer(raw, dtype="<f2").astype(np.float32)


def distance(claimed: bytes, recomputed: bytes) -> float:
    """L2 distance of two artifact vectors decoded to fp32 (accumulated in fp64); inf when the
    claimed vector has a non-finite element."""
    a = decode_vector(claimed).astype(np.float64)
    b = decode_vector(recomputed).astype(np.float64)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return math.inf
    return math.sqrt(float(np.sum((a - b) ** 2)))


# -- verification statistics (§6) ----------------------------------------------------------------

def binomial_p_value(mismatches: int, n: int, p: float) -> float:
    """P[X >= mismatches] for X ~ Binomial(n, p): the one-sided ("greater") test's p-value.

    Summed in log space from the upper tail down with lgamma-free recurrences so that it needs no
    special functions: log C(n, i) is accumulated as Σ log((n − j) / (j + 1)).
    """
    if not 0 <= mismatches <= n:
        raise ValueError("need 0 <= mismatches <= n")
    if not 0.0 < p < 1.0:
        raise ValueError("need 0 < p < 1")
    if mismatches == 0:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    # log pmf(i) for i = 0..n by the recurrence log C(n, i+1) = log C(n, i) + log((n − i) / (i + 1)).
    log_c = 0.0
    terms = []
    for i in range(n + 1):
        if i >= mismatches:
            terms.append(log_c + i * lp + (n - i) * lq)
        if i < n:
            log_c += math.log((n - i) / (i + 1))
    top = max(terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in terms))


@dataclasses.dataclass(frozen=True)
class StatTest:
    """Per-model verification parameters (Specs/poc-kernel.md §6)."""

    dist_threshold: float
    p_mismatch: float
    p_value_threshold: float

    def evaluate(self, distances: Sequence[float]) -> dict:
        """Counts mismatches (distance > dist_threshold, or not finite) and runs the test."""
        n = len(distances)
        mism = sum(1 for d in distances if not (d <= self.dist_threshold))
        pv = binomial_p_value(mism, n, self.p_mismatch) if n else 1.0
        return {"n": n, "mismatches": mism, "p_value": pv, "fraud": n > 0 and pv < self.p_value_threshold}


# -- computing artifacts with a backend -----------------------------------------------------------

class PoCRunner(Protocol):
    """What a backend offers the kernel: the final-normed last-position state of a batch."""

    config: object

    def poc_hidden(self, inputs: np.ndarray, layer_vectors: np.ndarray) -> np.ndarray: ...


@dataclasses.dataclass(frozen=True)
class PoCTask:
    """The parameters that fix the artifact of every nonce."""

    seed: bytes
    participant: bytes
    model_id: str
    seq_len: int

    def nonce_key(self, nonce: int) -> bytes:
        return nonce_key(self.seed, self.participant, self.model_id, self.seq_len, nonce)


class PoCComputer:
    """Computes artifacts of one (task, resident model); caches the layer vectors."""

    def __init__(self, runner: PoCRunner, task: PoCTask):
        cfg = runner.config
        self.runner = runner
        self.task = task
        self.hidden = cfg.hidden_size  # type: ignore[attr-defined]
        self.layers = layer_vectors(task.seed, task.model_id, cfg.layer_count, self.hidden)  # type: ignore[attr-defined]

    def inputs(self, nonces: Sequence[int]) -> tuple[list[bytes], np.ndarray]:
        keys = [self.task.nonce_key(n) for n in nonces]
        x = np.stack([input_embeddings(k, self.task.seq_len, self.hidden) for k in keys])
        return keys, x

    def compute(self, nonces: Sequence[int]) -> list[bytes | None]:
        """Artifact vectors of `nonces` (one batched forward pass); None where no artifact."""
        if not nonces:
            return []
        make_on_device = getattr(self.runner, "poc_inputs", None)
        if make_on_device is not None:  # the torch backend generates the (bit-identical) inputs itself
            keys = [self.task.nonce_key(n) for n in nonces]
            x = make_on_device(keys, self.task.seq_len)
        else:
            keys, x = self.inputs(nonces)
        h = np.asarray(self.runner.poc_hidden(x, self.layers), dtype=np.float32)
        return [project(h[i], keys[i]) for i in range(len(nonces))]


def schedule(offset: int, stride: int, count: int | None) -> Iterable[int]:
    """The nonces of a job: offset + i·stride for i = 0, 1, … (count of them, or unbounded)."""
    i = 0
    while count is None or i < count:
        n = offset + i * stride
        if n >= 1 << 64:
            return
        yield n
        i += 1
