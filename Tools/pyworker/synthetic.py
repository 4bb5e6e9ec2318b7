"""Synthetic Llamas: every weight derived from a 32-byte seed by the counter RNG (Specs/synthetic-models.md).

Tensor NAME with ggml dimensions [n0, n1] holds value j = normal(K, j) · 2^-s in storage order,
K = BLAKE2b-256("chorus/synthetic/v1/" ‖ seed ‖ NAME), s = ⌈⌈log2 n0⌉ / 2⌉; 1-D tensors are 1.0.
"""
from __future__ import annotations

import hashlib

import numpy as np

from . import rng
from .config import LlamaConfig
from .weights import LlamaWeights, build_weights

TENSOR_TAG = b"chorus/synthetic/v1/"

#: The smallest synthetic Llama (the Swift engine's `syntheticTiny`).
TINY = LlamaConfig(hidden_size=64, layer_count=2, head_count=4, kv_head_count=2, feed_forward_size=128,
                   vocab_size=256, context_length=512, rope_base=10000.0, rms_epsilon=1e-5, tied_embeddings=True)

#: The devnet PoC model when no real model is resident: ~6.4 M parameters, sized so one CPU core
#: produces tens of nonces per second at seq_len 16.
DEVNET = LlamaConfig(hidden_size=256, layer_count=8, head_count=8, kv_head_count=4, feed_forward_size=768,
                     vocab_size=256, context_length=512, rope_base=10000.0, rms_epsilon=1e-5, tied_embeddings=True)


def tensor_key(seed: bytes, name: str) -> bytes:
    return hashlib.blake2b(TENSOR_TAG + seed + name.encode("ascii"), digest_size=32).digest()


def scale_exponent(n0: int) -> int:
    b = 0
    while (1 << b) < n0:
        b += 1
    return (b + 1) // 2


def tensor_values(seed: bytes, name: str, dims: list[int]) -> np.ndarray:
    """The tensor as float32, shaped as its reversed ggml dimensions."""
    shape = tuple(reversed(dims))
    count = int(np.prod(dims))
    if len(dims) == 1:
        return np.ones(shape, dtype=np.float32)
    return rng.normals(tensor_key(seed, name), count, scale_exponent=scale_exponent(dims[0])).reshape(shape)


def build(config: LlamaConfig, seed: bytes) -> LlamaWeights:
    if len(seed) != 32:
        raise ValueError("synthetic seed must be 32 bytes")
    failure = config.validation_failure()
    if failure:
        raise ValueError(f"invalid synthetic config: {failure}")
    return build_weights(config, lambda name, dims: tensor_values(seed, name, dims))
