"""The counter-based generator shared by synthetic weights and the PoC kernel (Specs/poc-kernel.md §2).

Every value is a pure function of (32-byte key, index) built from 64-bit integer arithmetic, so
numpy, torch and Swift produce bit-identical outputs in any order. numpy's uint64 arithmetic
wraps modulo 2^64, which is exactly the definition.
"""
from __future__ import annotations

import numpy as np

MASK64 = (1 << 64) - 1
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
#: Sum of 12 lanes has mean 12 * 65535 / 2.
LANE_SUM_MEAN = 393210
#: Values per chunk: small enough that the word temporaries stay in cache (fastest measured).
_CHUNK = 1 << 14


def mix64_int(z: int) -> int:
    """SplitMix64's finaliser on a Python int (reference, scalar)."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def key_words(key: bytes) -> tuple[int, int, int, int]:
    """The key's 32 bytes as four little-endian u64 words k0..k3."""
    if len(key) != 32:
        raise ValueError(f"counter RNG key must be 32 bytes, got {len(key)}")
    return tuple(int.from_bytes(key[8 * i:8 * i + 8], "little") for i in range(4))  # type: ignore[return-value]


def word_int(key: bytes, counter: int) -> int:
    """word(K, c) on Python ints (reference, scalar)."""
    k0, k1, k2, k3 = key_words(key)
    return mix64_int(mix64_int(mix64_int(mix64_int((counter & MASK64) ^ k0) ^ k1) ^ k2) ^ k3)


def _mix64_inplace(z: np.ndarray, tmp: np.ndarray) -> None:
    np.right_shift(z, _S30, out=tmp)
    z ^= tmp
    z *= _M1
    np.right_shift(z, _S27, out=tmp)
    z ^= tmp
    z *= _M2
    np.right_shift(z, _S31, out=tmp)
    z ^= tmp


def mix64(z: np.ndarray) -> np.ndarray:
    """Vectorised mix64 over a uint64 array (returns a new array)."""
    z = np.array(z, dtype=np.uint64, copy=True)
    _mix64_inplace(z, np.empty_like(z))
    return z


def _words_from(k: tuple[np.uint64, ...], counters: np.ndarray) -> np.ndarray:
    z = counters
    tmp = np.empty_like(z)
    for kw in k:
        z ^= kw
        _mix64_inplace(z, tmp)
    return z


def words(key: bytes, counters: np.ndarray) -> np.ndarray:
    """word(K, c) for every c in a uint64 array."""
    k = tuple(np.uint64(x) for x in key_words(key))
    return _words_from(k, np.array(counters, dtype=np.uint64, copy=True))


def centered_sums(key: bytes, count: int, start: int = 0) -> np.ndarray:
    """S_j − 393210 for j in [start, start+count), as int64 (|value| <= 393210).

    The 12 lanes of value j are the 16-bit chunks of words 3j, 3j+1, 3j+2; viewing the words as
    uint16 lists all 12 chunks per value whatever the machine's byte order, and only their sum
    is used.
    """
    k = tuple(np.uint64(x) for x in key_words(key))
    out = np.empty(count, dtype=np.int64)
    for lo in range(0, count, _CHUNK):
        n = min(_CHUNK, count - lo)
        c0 = 3 * (start + lo)
        w = _words_from(k, np.arange(c0, c0 + 3 * n, dtype=np.uint64))
        out[lo:lo + n] = w.view(np.uint16).reshape(n, 12).sum(axis=1, dtype=np.int64)
    out -= LANE_SUM_MEAN
    return out


def normals(key: bytes, count: int, start: int = 0, scale_exponent: int = 0) -> np.ndarray:
    """normal(K, j) · 2^-scale_exponent for j in [start, start+count), float32 (exact)."""
    out = np.empty(count, dtype=np.float32)
    scale = np.float32(2.0 ** (-16 - scale_exponent))
    for lo in range(0, count, _CHUNK):
        n = min(_CHUNK, count - lo)
        out[lo:lo + n] = centered_sums(key, n, start + lo).astype(np.float32) * scale
    return out


def unit_vector(key: bytes, count: int, start: int = 0) -> np.ndarray:
    """The exact unit vector of Specs/poc-kernel.md §2.3, float64: S_i / sqrt(Σ S_i²).

    Σ S_i² is an exact integer; it is converted to float64 exactly (it stays below 2^53 for
    count <= 58,000), square-rooted and divided with IEEE correctly-rounded operations, so every
    implementation gets the same bits. A zero vector (never seen in practice) becomes e_0.
    """
    s = centered_sums(key, count, start)
    q = int(np.dot(s, s)) if count <= 58_000 else sum(int(v) * int(v) for v in s)
    if q >= 1 << 53:
        raise ValueError(f"unit vector of {count} values exceeds the exact range (at most 58,000)")
    if q == 0:
        out = np.zeros(count, dtype=np.float64)
        out[0] = 1.0
        return out
    return s.astype(np.float64) / np.sqrt(np.float64(q))


def uniform_below(key: bytes, m: int, counter: int) -> tuple[int, int]:
    """An unbiased integer in [0, m) from the word stream at `counter` by rejection sampling.

    Returns (value, next counter). A word w is accepted when w < 2^64 − (2^64 mod m).
    """
    if m <= 0:
        raise ValueError("uniform_below needs m >= 1")
    limit = (1 << 64) - ((1 << 64) % m)
    while True:
        w = word_int(key, counter)
        counter += 1
        if w < limit:
            return w % m, counter
