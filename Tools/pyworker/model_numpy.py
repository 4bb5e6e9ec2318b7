"""The numpy fp32 Llama forward pass: the CPU oracle of this worker.

Batched over sequences of equal length; optional KV cache; an `after_layer` hook over the residual
stream (the PoC kernel's Householder reflection). Matrix products run in fp32 through numpy's BLAS;
RMSNorm statistics and the softmax normaliser are accumulated in fp64.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .config import LlamaConfig
from .weights import LlamaWeights

Hook = Callable[[int, np.ndarray], None]


class KVCache:
    """Keys and values of `batch` sequences that advance together, up to `capacity` positions."""

    def __init__(self, config: LlamaConfig, batch: int, capacity: int):
        shape = (config.layer_count, batch, config.kv_head_count, capacity, config.head_dim)
        self.k = np.zeros(shape, dtype=np.float32)
        self.v = np.zeros(shape, dtype=np.float32)
        self.length = 0
        self.capacity = capacity
        self.batch = batch


def rope_tables(config: LlamaConfig, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cos/sin [len(positions), rope_dimensions/2]; angles in fp64, rounded to fp32 once."""
    pairs = config.rope_dimensions // 2
    theta = np.float64(config.rope_base) ** (-2.0 * np.arange(pairs, dtype=np.float64) / config.rope_dimensions)
    ang = positions.astype(np.float64)[:, None] * theta[None, :]
    return np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)


def apply_rope(x: np.ndarray, cos: np.ndarray, sin: np.ndarray, head_dim: int) -> None:
    """Rotate-half RoPE in place on x [B, T, heads, head_dim]: pairs (i, i + head_dim/2), i < pairs."""
    pairs = cos.shape[1]
    half = head_dim // 2
    a = x[..., :pairs].copy()
    b = x[..., half:half + pairs]
    c = cos[None, :, None, :]
    s = sin[None, :, None, :]
    x[..., :pairs] = a * c - b * s
    x[..., half:half + pairs] = a * s + b * c


def rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    ms = np.mean(np.square(x, dtype=np.float64), axis=-1, keepdims=True)
    return (x * (1.0 / np.sqrt(ms + eps)).astype(np.float32)) * weight


class NumpyLlama:
    """A resident model for the numpy backend."""

    backend_name = "numpy"

    def __init__(self, weights: LlamaWeights):
        self.config = weights.config
        self.weights = weights
        c = self.config
        # Fused, transposed projections so each step is one GEMM: x[rows, d] @ W[d, n].
        self._qkv = [np.ascontiguousarray(np.concatenate([L.wq, L.wk, L.wv], axis=0).T) for L in weights.layers]
        self._wo = [np.ascontiguousarray(L.wo.T) for L in weights.layers]
        self._gu = [np.ascontiguousarray(np.concatenate([L.w_gate, L.w_up], axis=0).T) for L in weights.layers]
        self._down = [np.ascontiguousarray(L.w_down.T) for L in weights.layers]
        self._out = np.ascontiguousarray(weights.output.T)
        self._rope_cos, self._rope_sin = rope_tables(c, np.arange(c.context_length))

    def new_cache(self, batch: int = 1, capacity: int | None = None) -> KVCache:
        return KVCache(self.config, batch, capacity or self.config.context_length)

    # -- the forward pass ------------------------------------------------------------------------

    def residual(self, x: np.ndarray, cache: KVCache | None = None, after_layer: Hook | None = None) -> np.ndarray:
        """Runs every block over input embeddings x [B, T, d] (float32) and returns the residual
        stream [B, T, d] before the output RMSNorm. With a cache, rows continue at `cache.length`."""
        c = self.config
        w = self.weights
        B, T, d = x.shape
        H, KV, hd = c.head_count, c.kv_head_count, c.head_dim
        g = H // KV
        qW, kvW, ffn = c.query_width, c.kv_width, c.feed_forward_size
        start = cache.length if cache is not None else 0
        if start + T > c.context_length:
            raise ValueError(f"sequence of {start + T} positions exceeds the context length {c.context_length}")
        if cache is not None and (cache.batch != B or start + T > cache.capacity):
            raise ValueError("KV cache does not fit this batch")
        cos, sin = self._rope_cos[start:start + T], self._rope_sin[start:start + T]
        scale = np.float32(1.0 / np.sqrt(hd))
        S = start + T
        # mask[t, s] = -inf where key position s is after query position start + t.
        mask = np.where(np.arange(S)[None, :] > (start + np.arange(T))[:, None], -np.inf, 0.0).astype(np.float32)
        x = np.array(x, dtype=np.float32, copy=True)
        for li, L in enumerate(w.layers):
            h = rms_norm(x, L.attn_norm, c.rms_epsilon).reshape(B * T, d)
            qkv = (h @ self._qkv[li]).reshape(B, T, qW + 2 * kvW)
            q = qkv[..., :qW].reshape(B, T, H, hd)
            k = qkv[..., qW:qW + kvW].reshape(B, T, KV, hd)
            v = qkv[..., qW + kvW:].reshape(B, T, KV, hd)
            apply_rope(q, cos, sin, hd)
            apply_rope(k, cos, sin, hd)
            k = k.transpose(0, 2, 1, 3)  # [B, KV, T, hd]
            v = v.transpose(0, 2, 1, 3)
            if cache is not None:
                cache.k[li, :, :, start:S] = k
                cache.v[li, :, :, start:S] = v
                k = cache.k[li, :, :, :S]
                v = cache.v[li, :, :, :S]
            qg = q.transpose(0, 2, 1, 3).reshape(B, KV, g, T, hd)
            scores = (qg @ k[:, :, None].swapaxes(-1, -2)) * scale + mask  # [B, KV, g, T, S]
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True, dtype=np.float64).astype(np.float32)
            attn = (scores @ v[:, :, None]).reshape(B, H, T, hd).transpose(0, 2, 1, 3).reshape(B * T, qW)
            x += (attn @ self._wo[li]).reshape(B, T, d)
            h = rms_norm(x, L.ffn_norm, c.rms_epsilon).reshape(B * T, d)
            gu = h @ self._gu[li]
            gate, up = gu[:, :ffn], gu[:, ffn:]
            with np.errstate(over="ignore"):
                act = gate / (np.float32(1) + np.exp(-gate)) * up
            x += (act @ self._down[li]).reshape(B, T, d)
            if after_layer is not None:
                after_layer(li, x)
        if cache is not None:
            cache.length = S
        return x

    def final_hidden(self, residual: np.ndarray) -> np.ndarray:
        """The output RMSNorm applied to residual rows [..., d]."""
        return rms_norm(residual, self.weights.output_norm, self.config.rms_epsilon)

    def logits_of(self, hidden: np.ndarray) -> np.ndarray:
        """LM-head logits [..., vocab] of final-normed hidden rows [..., d]."""
        return hidden @ self._out

    def embed(self, tokens: np.ndarray) -> np.ndarray:
        return self.weights.embed[tokens]

    # -- entry points shared with the torch backend ---------------------------------------------

    def poc_hidden(self, inputs: np.ndarray, layer_vectors: np.ndarray) -> np.ndarray:
        """PoC pass: inputs [B, T, d], Householder vectors [layers, d] → final-normed hidden state
        of each sequence's last position [B, d] (float32)."""
        def reflect(layer: int, x: np.ndarray) -> None:
            v = layer_vectors[layer]
            x -= (np.float32(2) * (x @ v))[..., None] * v

        res = self.residual(inputs, after_layer=reflect)
        return self.final_hidden(res[:, -1, :])

    def token_logits(self, tokens: np.ndarray, cache: KVCache | None, rows: slice | None = None) -> np.ndarray:
        """Feeds token ids [B, T]; returns logits [B, len(rows), vocab] of the selected new rows
        (default: the last one)."""
        res = self.residual(self.embed(tokens), cache)
        sel = res[:, rows] if rows is not None else res[:, -1:]
        return self.logits_of(self.final_hidden(sel))
