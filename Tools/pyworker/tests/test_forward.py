"""Invariants of the numpy Llama forward pass, and equivalence with an independent fp64 reference
that works in GGUF layout (adjacent-pair RoPE, explicit per-head loops)."""
import numpy as np

from pyworker import synthetic
from pyworker.config import LlamaConfig
from pyworker.model_numpy import NumpyLlama

SEED = bytes(range(32))


def gguf_reference_logits(seed: bytes, cfg: LlamaConfig, ids: list[int]) -> np.ndarray:
    """fp64 forward straight from the GGUF-layout synthetic tensors: no un-permutation, RoPE on
    adjacent pairs (ggml 'normal' mode), GQA by explicit head mapping."""
    dims = {"q": [cfg.hidden_size, cfg.query_width], "kv": [cfg.hidden_size, cfg.kv_width]}

    def t(name, d):
        return synthetic.tensor_values(seed, name, d).astype(np.float64)

    d, hd, H, KV = cfg.hidden_size, cfg.head_dim, cfg.head_count, cfg.kv_head_count
    x = t("token_embd.weight", [d, cfg.vocab_size])[ids]
    T = len(ids)
    theta = cfg.rope_base ** (-2.0 * np.arange(cfg.rope_dimensions // 2) / cfg.rope_dimensions)

    def rope(v, pos):  # v [heads, hd]
        v = v.copy()
        for i, th in enumerate(theta):
            c, s = np.cos(pos * th), np.sin(pos * th)
            a, b = v[:, 2 * i].copy(), v[:, 2 * i + 1].copy()
            v[:, 2 * i], v[:, 2 * i + 1] = a * c - b * s, a * s + b * c
        return v

    def rms(v):
        return v / np.sqrt((v * v).mean(-1, keepdims=True) + cfg.rms_epsilon)

    for l in range(cfg.layer_count):
        p = f"blk.{l}."
        h = rms(x)
        q = h @ t(p + "attn_q.weight", dims["q"]).T
        k = h @ t(p + "attn_k.weight", dims["kv"]).T
        v = h @ t(p + "attn_v.weight", dims["kv"]).T
        out = np.zeros((T, H * hd))
        for i in range(T):
            qi = rope(q[i].reshape(H, hd), i)
            ks = np.stack([rope(k[j].reshape(KV, hd), j) for j in range(i + 1)])
            vs = v[: i + 1].reshape(i + 1, KV, hd)
            for head in range(H):
                g = head // (H // KV)
                s = ks[:, g] @ qi[head] / np.sqrt(hd)
                w = np.exp(s - s.max())
                w /= w.sum()
                out[i, head * hd:(head + 1) * hd] = w @ vs[:, g]
        x = x + out @ t(p + "attn_output.weight", [cfg.query_width, d]).T
        h = rms(x)
        gt = h @ t(p + "ffn_gate.weight", [d, cfg.feed_forward_size]).T
        up = h @ t(p + "ffn_up.weight", [d, cfg.feed_forward_size]).T
        x = x + (gt / (1 + np.exp(-gt)) * up) @ t(p + "ffn_down.weight", [cfg.feed_forward_size, d]).T
    out_w = t("token_embd.weight" if cfg.tied_embeddings else "output.weight", [d, cfg.vocab_size])
    return rms(x) @ out_w.T


def test_matches_gguf_layout_reference_tied_and_untied():
    for cfg in (synthetic.TINY, LlamaConfig(hidden_size=48, layer_count=3, head_count=6, kv_head_count=2,
                                            feed_forward_size=96, vocab_size=64, context_length=64,
                                            rope_dimensions=4, tied_embeddings=False)):
        m = NumpyLlama(synthetic.build(cfg, SEED))
        ids = [5, 17, 3, 60, 2, 9, 33]
        got = m.token_logits(np.array([ids]), None, rows=slice(0, len(ids)))[0]
        ref = gguf_reference_logits(SEED, cfg, ids)
        assert np.max(np.abs(got - ref)) < 2e-4 * max(1.0, float(np.abs(ref).max()))


def test_kv_cache_matches_full_recompute(tiny_model):
    ids = [1, 200, 33, 7, 99, 4, 250, 12]
    full = tiny_model.token_logits(np.array([ids]), None, rows=slice(0, 8))[0]
    cache = tiny_model.new_cache(1, 16)
    parts = [tiny_model.token_logits(np.array([ids[:5]]), cache, rows=slice(0, 5))[0]]
    for tok in ids[5:]:
        parts.append(tiny_model.token_logits(np.array([[tok]]), cache)[0])
    assert cache.length == 8
    assert np.max(np.abs(np.concatenate(parts) - full)) < 1e-5


def test_causal_and_batch_independent(tiny_model):
    a, b = [3, 4, 5, 6], [3, 4, 99, 100]
    la = tiny_model.token_logits(np.array([a]), None, rows=slice(0, 4))[0]
    lb = tiny_model.token_logits(np.array([b]), None, rows=slice(0, 4))[0]
    assert np.array_equal(la[:2], lb[:2]) and not np.allclose(la[2:], lb[2:])
    both = tiny_model.token_logits(np.array([a, b]), None, rows=slice(0, 4))
    assert np.max(np.abs(both[0] - la)) < 1e-5 and np.max(np.abs(both[1] - lb)) < 1e-5


def test_after_layer_hook_sees_every_layer_and_can_change_the_result(tiny_model):
    x = np.ones((1, 3, 64), dtype=np.float32)
    seen = []
    tiny_model.residual(x, after_layer=lambda l, h: seen.append((l, h.shape)))
    assert seen == [(0, (1, 3, 64)), (1, (1, 3, 64))]
    plain = tiny_model.residual(x)

    def negate(layer, h):
        h *= -1

    assert not np.allclose(tiny_model.residual(x, after_layer=negate), plain)


def test_context_overflow_is_refused(tiny_model):
    import pytest
    with pytest.raises(ValueError):
        tiny_model.token_logits(np.zeros((1, 513), dtype=np.int64), None)
