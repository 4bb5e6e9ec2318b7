"""fp32 weights of a Llama in Hugging Face layout, built from GGUF-named tensors.

GGUF (llama.cpp) stores the rows of `attn_q` and `attn_k` permuted so that RoPE rotates adjacent
pairs (x[2i], x[2i+1]) of each head. This worker undoes that permutation once at load time and
applies rotate-half RoPE to the pairs (x[i], x[i + head_dim/2]), the Hugging Face convention; both
give the same attention scores. Synthetic models are defined in GGUF layout too
(Specs/synthetic-models.md), so they go through the same conversion.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from .config import LlamaConfig


@dataclasses.dataclass
class LayerWeights:
    attn_norm: np.ndarray  # [d]
    wq: np.ndarray  # [q_width, d]   (rows in HF order)
    wk: np.ndarray  # [kv_width, d]  (rows in HF order)
    wv: np.ndarray  # [kv_width, d]
    wo: np.ndarray  # [d, q_width]
    ffn_norm: np.ndarray  # [d]
    w_gate: np.ndarray  # [ffn, d]
    w_up: np.ndarray  # [ffn, d]
    w_down: np.ndarray  # [d, ffn]


@dataclasses.dataclass
class LlamaWeights:
    config: LlamaConfig
    embed: np.ndarray  # [vocab, d]
    layers: list[LayerWeights]
    output_norm: np.ndarray  # [d]
    output: np.ndarray  # [vocab, d]; the same array as `embed` when tied


def ggml_dimensions(config: LlamaConfig) -> dict[str, list[int]]:
    """Every tensor of the model with its ggml dimensions (innermost first), in a fixed order."""
    c = config
    d, q, kv, f = c.hidden_size, c.query_width, c.kv_width, c.feed_forward_size
    dims: dict[str, list[int]] = {"token_embd.weight": [d, c.vocab_size]}
    for i in range(c.layer_count):
        p = f"blk.{i}."
        dims[p + "attn_norm.weight"] = [d]
        dims[p + "attn_q.weight"] = [d, q]
        dims[p + "attn_k.weight"] = [d, kv]
        dims[p + "attn_v.weight"] = [d, kv]
        dims[p + "attn_output.weight"] = [q, d]
        dims[p + "ffn_norm.weight"] = [d]
        dims[p + "ffn_gate.weight"] = [d, f]
        dims[p + "ffn_up.weight"] = [d, f]
        dims[p + "ffn_down.weight"] = [f, d]
    dims["output_norm.weight"] = [d]
    if not c.tied_embeddings:
        dims["output.weight"] = [d, c.vocab_size]
    return dims


def unpermute_qk(w, heads: int):
    """Inverse of llama.cpp's Q/K row permutation: GGUF row 2i+s of a head → HF row s·(hd/2)+i.
    Works on numpy arrays and torch tensors alike (reshape/swapaxes only)."""
    rows, cols = w.shape
    hd = rows // heads
    return w.reshape(heads, hd // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


def _contiguous_f32(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def build_weights(config: LlamaConfig, tensor: Callable[[str, list[int]], np.ndarray],
                  contiguous: Callable = _contiguous_f32) -> LlamaWeights:
    """Assembles the weights from `tensor(name, ggml_dims)`, which returns a float32 array shaped
    as the reversed ggml dimensions (row-major: [n1, n0]). `contiguous` makes the final arrays
    (numpy by default; the torch backend passes `Tensor.contiguous`)."""
    dims = ggml_dimensions(config)

    def get(name: str):
        a = tensor(name, dims[name])
        want = tuple(reversed(dims[name]))
        if tuple(a.shape) != want:
            raise ValueError(f"tensor {name} has shape {tuple(a.shape)}, expected {want}")
        return contiguous(a)

    layers = []
    for i in range(config.layer_count):
        p = f"blk.{i}."
        layers.append(LayerWeights(
            attn_norm=get(p + "attn_norm.weight"),
            wq=contiguous(unpermute_qk(get(p + "attn_q.weight"), config.head_count)),
            wk=contiguous(unpermute_qk(get(p + "attn_k.weight"), config.kv_head_count)),
            wv=get(p + "attn_v.weight"),
            wo=get(p + "attn_output.weight"),
            ffn_norm=get(p + "ffn_norm.weight"),
            w_gate=get(p + "ffn_gate.weight"),
            w_up=get(p + "ffn_up.weight"),
            w_down=get(p + "ffn_down.weight"),
        ))
    embed = get("token_embd.weight")
    output = embed if config.tied_embeddings else get("output.weight")
    return LlamaWeights(config=config, embed=embed, layers=layers, output_norm=get("output_norm.weight"), output=output)
