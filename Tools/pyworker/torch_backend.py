"""The torch backend: the same Llama forward and PoC kernel as `model_numpy`, on CUDA when
available (fp32, fp16 or bf16 weights; norms, softmax and the Householder dot products in fp32),
else on the CPU. The counter RNG runs on the device too (int64 arithmetic with explicit logical
shifts), so synthetic weights and PoC inputs never cross the PCIe bus and stay bit-exact.

Importing this module needs torch; everything else in the worker works without it.
"""
from __future__ import annotations

import numpy as np
import torch

from . import rng, synthetic
from .config import LlamaConfig
from .weights import LlamaWeights, build_weights

_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def _signed(u: int) -> int:
    return u - (1 << 64) if u >= 1 << 63 else u


_M1 = _signed(0xBF58476D1CE4E5B9)
_M2 = _signed(0x94D049BB133111EB)


def _lsr(z: torch.Tensor, s: int) -> torch.Tensor:
    """Logical right shift of int64 bit patterns (torch's >> is arithmetic)."""
    return (z >> s) & ((1 << (64 - s)) - 1)


def _mix64(z: torch.Tensor) -> torch.Tensor:
    z = (z ^ _lsr(z, 30)) * _M1  # int64 multiplication wraps modulo 2^64
    z = (z ^ _lsr(z, 27)) * _M2
    return z ^ _lsr(z, 31)


def words(key: bytes, counters: torch.Tensor) -> torch.Tensor:
    z = counters
    for k in rng.key_words(key):
        z = _mix64(z ^ _signed(k))
    return z


def centered_sums(key: bytes, count: int, start: int, device: torch.device) -> torch.Tensor:
    c = torch.arange(3 * start, 3 * (start + count), dtype=torch.int64, device=device)
    w = words(key, c)
    lanes = (w & 0xFFFF) + ((w >> 16) & 0xFFFF) + ((w >> 32) & 0xFFFF) + ((w >> 48) & 0xFFFF)
    return lanes.view(count, 3).sum(dim=1) - rng.LANE_SUM_MEAN


def normals(key: bytes, count: int, device: torch.device, start: int = 0, scale_exponent: int = 0,
            chunk: int = 1 << 24) -> torch.Tensor:
    """float32 normal(K, j)·2^-s for j in [start, start+count), computed on `device` (exact).
    On the CPU numpy's uint64 arithmetic is several times faster than torch's int64 kernels, so
    the numpy generator is used there (same bits)."""
    if device.type == "cpu":
        return torch.from_numpy(rng.normals(key, count, start, scale_exponent))
    out = torch.empty(count, dtype=torch.float32, device=device)
    scale = 2.0 ** (-16 - scale_exponent)
    for lo in range(0, count, chunk):
        n = min(chunk, count - lo)
        out[lo:lo + n] = centered_sums(key, n, start + lo, device).to(torch.float32) * scale
    return out


def pick_device(name: str | None = None) -> torch.device:
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def build_synthetic(config: LlamaConfig, seed: bytes, device: torch.device) -> LlamaWeights:
    """Synthetic weights generated on `device`; bit-identical to `synthetic.build`. The arrays in
    the returned LlamaWeights are torch tensors (only TorchLlama consumes them)."""
    failure = config.validation_failure()
    if failure:
        raise ValueError(f"invalid synthetic config: {failure}")

    def tensor(name: str, dims: list[int]):
        shape = tuple(reversed(dims))
        if len(dims) == 1:
            return torch.ones(shape, dtype=torch.float32, device=device)
        count = int(np.prod(dims))
        key = synthetic.tensor_key(seed, name)
        return normals(key, count, device, scale_exponent=synthetic.scale_exponent(dims[0])).view(shape)

    return build_weights(config, tensor, contiguous=lambda a: a.contiguous())


class KVCache:
    def __init__(self, config: LlamaConfig, batch: int, capacity: int, device, dtype):
        shape = (config.layer_count, batch, config.kv_head_count, capacity, config.head_dim)
        self.k = torch.zeros(shape, dtype=dtype, device=device)
        self.v = torch.zeros(shape, dtype=dtype, device=device)
        self.length = 0
        self.capacity = capacity
        self.batch = batch


class TorchLlama:
    """A resident model for the torch backend; same entry points as `NumpyLlama`."""

    def __init__(self, weights: LlamaWeights, device: torch.device | None = None, dtype: str = "fp32"):
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {sorted(_DTYPES)}")
        self.device = device or pick_device()
        self.dtype = _DTYPES[dtype]
        self.dtype_name = dtype
        self.backend_name = f"torch-{self.device.type}"
        self.config = weights.config
        c = self.config

        def t(a) -> torch.Tensor:
            x = a if isinstance(a, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(a))
            return x.to(self.device)

        L = weights.layers
        self.attn_norm = [t(l.attn_norm).float() for l in L]
        self.ffn_norm = [t(l.ffn_norm).float() for l in L]
        self.qkv = [torch.cat([t(l.wq), t(l.wk), t(l.wv)], 0).to(self.dtype).contiguous() for l in L]
        self.wo = [t(l.wo).to(self.dtype).contiguous() for l in L]
        self.gu = [torch.cat([t(l.w_gate), t(l.w_up)], 0).to(self.dtype).contiguous() for l in L]
        self.down = [t(l.w_down).to(self.dtype).contiguous() for l in L]
        self.embed_table = t(weights.embed).to(self.dtype)
        self.output_norm = t(weights.output_norm).float()
        self.out = self.embed_table if c.tied_embeddings else t(weights.output).to(self.dtype)
        pairs = c.rope_dimensions // 2
        theta = torch.tensor(c.rope_base, dtype=torch.float64) ** (
            -2.0 * torch.arange(pairs, dtype=torch.float64) / c.rope_dimensions)
        ang = torch.arange(c.context_length, dtype=torch.float64)[:, None] * theta[None, :]
        self.cos = ang.cos().float().to(self.device)
        self.sin = ang.sin().float().to(self.device)

    def new_cache(self, batch: int = 1, capacity: int | None = None) -> KVCache:
        return KVCache(self.config, batch, capacity or self.config.context_length, self.device, self.dtype)

    def _rms(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        return xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.config.rms_epsilon) * w

    def _rope(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        hd = self.config.head_dim
        pairs, half = cos.shape[1], hd // 2
        c, s = cos[None, :, None, :], sin[None, :, None, :]
        a, b = x[..., :pairs].float(), x[..., half:half + pairs].float()
        x = x.clone()
        x[..., :pairs] = (a * c - b * s).to(x.dtype)
        x[..., half:half + pairs] = (a * s + b * c).to(x.dtype)
        return x

    @torch.inference_mode()
    def _residual(self, x: torch.Tensor, cache: KVCache | None, layer_vectors: torch.Tensor | None) -> torch.Tensor:
        c = self.config
        B, T, d = x.shape
        H, KV, hd = c.head_count, c.kv_head_count, c.head_dim
        g = H // KV
        qW, kvW, ffn = c.query_width, c.kv_width, c.feed_forward_size
        start = cache.length if cache is not None else 0
        S = start + T
        if S > c.context_length:
            raise ValueError(f"sequence of {S} positions exceeds the context length {c.context_length}")
        if cache is not None and (cache.batch != B or S > cache.capacity):
            raise ValueError("KV cache does not fit this batch")
        cos, sin = self.cos[start:S], self.sin[start:S]
        pos_q = torch.arange(start, S, device=self.device)[:, None]
        mask = torch.where(torch.arange(S, device=self.device)[None, :] > pos_q, float("-inf"), 0.0)
        scale = 1.0 / float(np.sqrt(hd))
        x = x.float()
        for li in range(c.layer_count):
            h = self._rms(x, self.attn_norm[li]).to(self.dtype)
            qkv = h @ self.qkv[li].T
            q = self._rope(qkv[..., :qW].reshape(B, T, H, hd), cos, sin)
            k = self._rope(qkv[..., qW:qW + kvW].reshape(B, T, KV, hd), cos, sin).transpose(1, 2)
            v = qkv[..., qW + kvW:].reshape(B, T, KV, hd).transpose(1, 2)
            if cache is not None:
                cache.k[li, :, :, start:S] = k
                cache.v[li, :, :, start:S] = v
                k, v = cache.k[li, :, :, :S], cache.v[li, :, :, :S]
            qg = q.transpose(1, 2).reshape(B, KV, g, T, hd)
            scores = (qg.float() @ k[:, :, None].float().transpose(-1, -2)) * scale + mask
            p = torch.softmax(scores, dim=-1)
            attn = (p.to(self.dtype) @ v[:, :, None]).reshape(B, H, T, hd).transpose(1, 2).reshape(B, T, qW)
            x = x + (attn @ self.wo[li].T).float()
            h = self._rms(x, self.ffn_norm[li]).to(self.dtype)
            gu = h @ self.gu[li].T
            act = torch.nn.functional.silu(gu[..., :ffn].float()) * gu[..., ffn:].float()
            x = x + (act.to(self.dtype) @ self.down[li].T).float()
            if layer_vectors is not None:
                v_l = layer_vectors[li]
                x = x - (2.0 * (x @ v_l))[..., None] * v_l
        if cache is not None:
            cache.length = S
        return x

    # -- entry points (numpy in, numpy out) -------------------------------------------------------

    def poc_inputs(self, keys: list[bytes], seq_len: int) -> torch.Tensor:
        d = self.config.hidden_size
        return torch.stack([normals(k, seq_len * d, self.device).view(seq_len, d) for k in keys])

    def poc_hidden(self, inputs, layer_vectors) -> np.ndarray:
        x = inputs if isinstance(inputs, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(inputs))
        v = layer_vectors if isinstance(layer_vectors, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(layer_vectors))
        with torch.inference_mode():
            res = self._residual(x.to(self.device), None, v.to(self.device).float())
            return self._rms(res[:, -1, :], self.output_norm).cpu().numpy()

    def token_logits(self, tokens: np.ndarray, cache: KVCache | None, rows: slice | None = None) -> np.ndarray:
        with torch.inference_mode():
            ids = torch.as_tensor(np.asarray(tokens), dtype=torch.int64, device=self.device)
            res = self._residual(self.embed_table[ids].float(), cache, None)
            sel = res[:, rows] if rows is not None else res[:, -1:]
            hidden = self._rms(sel, self.output_norm).to(self.dtype)
            return (hidden @ self.out.T).float().cpu().numpy()


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)

