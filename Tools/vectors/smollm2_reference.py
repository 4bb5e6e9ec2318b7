#!/usr/bin/env python3
"""Reference values for the real-model tests (SmolLM2-135M-Instruct Q4_1), computed independently
of the Swift engine:

- token ids from Hugging Face `tokenizers`, built from the GGUF's own vocabulary and merges
  (read with PyPI `gguf`) with SmolLM2's pre-tokenizer (Digits(individual) + ByteLevel);
- logits from a plain numpy fp32 Llama forward written the Hugging Face way: weights dequantized
  by `gguf`, Q/K rows un-permuted back from llama.cpp's layout, rotate-half RoPE.

    pip install gguf==0.19.0 tokenizers==0.23.3 numpy
    python3 Tools/vectors/smollm2_reference.py [path/to/SmolLM2-135M-Instruct.Q4_1.gguf]
writes Specs/vectors/smollm2-reference.json.
"""
import json
import os
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from tokenizers import AddedToken

TEXTS = [
    "Hello world!",
    "What is the capital of France?",
    "The year 2024 had 366 days; isn't that odd?",
    "  leading spaces\tand\ttabs\n\nnew lines",
    "naïve café, 日本語, emoji 😀",
    "def f(x):\n    return x**2  # square",
]
CHAT_PROMPT = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
               "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")


def field(r, key):
    return r.fields[key].contents()


def build_tokenizer(r):
    tokens = field(r, "tokenizer.ggml.tokens")
    types = field(r, "tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ", 1)) for m in field(r, "tokenizer.ggml.merges")]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False) for i in range(len(tokens)) if types[i] == 3])
    return tok


def weights(r):
    out = {}
    for t in r.tensors:
        a = dequantize(t.data, t.tensor_type).astype(np.float32)
        out[t.name] = a.reshape([int(d) for d in reversed(t.shape)]) if a.ndim > 1 or len(t.shape) > 1 else a
    return out


def unpermute(w, heads):
    rows, cols = w.shape
    hd = rows // heads
    return w.reshape(heads, hd // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


def forward(w, cfg, ids):
    d, L, H, KV = cfg["d"], cfg["layers"], cfg["heads"], cfg["kv"]
    hd = d // H
    eps, base = cfg["eps"], cfg["base"]
    T = len(ids)
    x = w["token_embd.weight"][ids].astype(np.float32)
    inv = base ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
    ang = np.outer(np.arange(T), inv)
    cos = np.concatenate([np.cos(ang)] * 2, axis=1).astype(np.float32)
    sin = np.concatenate([np.sin(ang)] * 2, axis=1).astype(np.float32)

    def rms(v, g):
        return (v / np.sqrt((v.astype(np.float64) ** 2).mean(-1, keepdims=True) + eps)).astype(np.float32) * g

    def rope(v):  # [T, heads, hd], rotate-half
        half = hd // 2
        rot = np.concatenate([-v[..., half:], v[..., :half]], axis=-1)
        return v * cos[:, None, :] + rot * sin[:, None, :]

    mask = np.triu(np.full((T, T), -np.inf, dtype=np.float32), 1)
    for l in range(L):
        p = f"blk.{l}."
        h = rms(x, w[p + "attn_norm.weight"])
        q = rope((h @ unpermute(w[p + "attn_q.weight"], H).T).reshape(T, H, hd))
        k = rope((h @ unpermute(w[p + "attn_k.weight"], KV).T).reshape(T, KV, hd))
        v = (h @ w[p + "attn_v.weight"].T).reshape(T, KV, hd)
        k = np.repeat(k, H // KV, axis=1)
        v = np.repeat(v, H // KV, axis=1)
        s = np.einsum("thd,shd->hts", q, k) / np.sqrt(hd) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        o = np.einsum("hts,shd->thd", s, v).reshape(T, H * hd)
        x = x + o @ w[p + "attn_output.weight"].T
        h = rms(x, w[p + "ffn_norm.weight"])
        g = h @ w[p + "ffn_gate.weight"].T
        u = h @ w[p + "ffn_up.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * u) @ w[p + "ffn_down.weight"].T
    x = rms(x, w["output_norm.weight"])
    out = w.get("output.weight", w["token_embd.weight"])
    return x @ out.T


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/chorus/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    r = GGUFReader(path)
    tok = build_tokenizer(r)
    cfg = {
        "d": int(field(r, "llama.embedding_length")), "layers": int(field(r, "llama.block_count")),
        "heads": int(field(r, "llama.attention.head_count")), "kv": int(field(r, "llama.attention.head_count_kv")),
        "eps": float(field(r, "llama.attention.layer_norm_rms_epsilon")), "base": float(field(r, "llama.rope.freq_base")),
    }
    w = weights(r)
    tokenized = [{"text": t, "ids": tok.encode(t).ids} for t in TEXTS + [CHAT_PROMPT]]
    prompt = tok.encode(CHAT_PROMPT).ids

    # Greedy continuation by full recompute, and the last-position logits of the prompt.
    ids = list(prompt)
    logits = forward(w, cfg, ids)
    last = logits[-1].astype(np.float64)
    top = np.argsort(-last, kind="stable")[:10]
    lse = last.max() + np.log(np.exp(last - last.max()).sum())
    greedy = []
    for _ in range(12):
        nxt = int(np.argmax(forward(w, cfg, ids)[-1]))
        greedy.append(nxt)
        ids.append(nxt)
        if nxt == 2:
            break

    out = {
        "about": "SmolLM2-135M-Instruct Q4_1 (sha256 b179c952...) reference from Tools/vectors/smollm2_reference.py: "
                 "HF tokenizers over the GGUF vocabulary; numpy fp32 forward (HF layout, rotate-half RoPE).",
        "tokenize": tokenized,
        "chat_prompt": CHAT_PROMPT,
        "prompt_last_logits_top10": [{"token": int(i), "logit": float(last[i]), "logprob": float(last[i] - lse)} for i in top],
        "greedy_continuation": greedy,
        "greedy_text": tok.decode(greedy),
    }
    here = os.path.dirname(os.path.abspath(__file__))
    dst = os.path.normpath(os.path.join(here, "..", "..", "Specs", "vectors", "smollm2-reference.json"))
    with open(dst, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(dst, out["greedy_text"])


if __name__ == "__main__":
    main()
