"""Loading a `llama` GGUF file: configuration, fp32 weights (dequantized with PyPI `gguf`), and the
tokenizer and chat-template metadata."""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .config import LlamaConfig
from .errors import WorkerError
from .weights import LlamaWeights, build_weights


@dataclasses.dataclass
class TokenizerData:
    model: str  # tokenizer.ggml.model ("gpt2" = byte-level BPE)
    pre: str  # tokenizer.ggml.pre
    tokens: list[str]
    token_types: list[int]
    merges: list[str]
    bos_id: int | None
    eos_id: int | None
    chat_template: str | None


@dataclasses.dataclass
class GGUFModel:
    weights: LlamaWeights
    tokenizer: TokenizerData | None
    metadata: dict[str, Any]


def _load_error(path: str, message: str) -> WorkerError:
    return WorkerError(422, "model_invalid", f"{path}: {message}", "path")


def load(path: str) -> GGUFModel:
    """Reads the file; raises WorkerError (404 missing file, 422 unsupported or malformed)."""
    try:
        from gguf import GGUFReader
        from gguf.quants import dequantize
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise WorkerError(501, "unsupported", f"loading GGUF files needs the 'gguf' package (pip install gguf==0.19.0): {e}", "path")
    try:
        reader = GGUFReader(path, "r")
    except FileNotFoundError:
        raise WorkerError(404, "not_found", f"no such model file: {path}", "path")
    except (OSError, ValueError, KeyError, IndexError) as e:
        raise _load_error(path, f"not a readable GGUF file ({e})")

    meta: dict[str, Any] = {}
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        try:
            meta[key] = field.contents()
        except Exception as e:  # noqa: BLE001 - gguf raises various errors on odd fields
            raise _load_error(path, f"unreadable metadata {key} ({e})")

    def req(key: str) -> Any:
        if key not in meta:
            raise _load_error(path, f"missing metadata {key}")
        return meta[key]

    arch = req("general.architecture")
    if arch != "llama":
        raise _load_error(path, f"architecture '{arch}' is not supported (only 'llama')")
    scaling = meta.get("llama.rope.scaling.type")
    if scaling not in (None, "none"):
        raise _load_error(path, f"RoPE scaling '{scaling}' is not supported")
    tensors = {t.name: t for t in reader.tensors}
    hidden = int(req("llama.embedding_length"))
    heads = int(req("llama.attention.head_count"))
    kv_heads = int(meta.get("llama.attention.head_count_kv", heads))
    head_dim = int(meta.get("llama.attention.key_length", hidden // heads if heads else 0))
    if int(meta.get("llama.attention.value_length", head_dim)) != head_dim:
        raise _load_error(path, "attention value_length differs from key_length")
    vocab = meta.get("llama.vocab_size")
    if vocab is None:
        if "token_embd.weight" not in tensors:
            raise _load_error(path, "missing llama.vocab_size and token_embd.weight")
        vocab = int(tensors["token_embd.weight"].shape[1])
    config = LlamaConfig(
        hidden_size=hidden, layer_count=int(req("llama.block_count")), head_count=heads, kv_head_count=kv_heads,
        head_dim=head_dim, feed_forward_size=int(req("llama.feed_forward_length")), vocab_size=int(vocab),
        context_length=int(req("llama.context_length")), rope_base=float(meta.get("llama.rope.freq_base", 10000.0)),
        rope_dimensions=int(meta.get("llama.rope.dimension_count", head_dim)),
        rms_epsilon=float(req("llama.attention.layer_norm_rms_epsilon")),
        tied_embeddings="output.weight" not in tensors)
    failure = config.validation_failure()
    if failure:
        raise _load_error(path, f"inconsistent model shape: {failure}")

    def tensor(name: str, dims: list[int]) -> np.ndarray:
        t = tensors.get(name)
        if t is None:
            raise _load_error(path, f"missing tensor {name}")
        if [int(x) for x in t.shape] != dims:
            raise _load_error(path, f"tensor {name} has dimensions {list(map(int, t.shape))}, expected {dims}")
        try:
            a = dequantize(t.data, t.tensor_type)
        except NotImplementedError:
            raise _load_error(path, f"tensor {name} has unsupported type {t.tensor_type.name}")
        return np.asarray(a, dtype=np.float32).reshape(tuple(reversed(dims)))

    weights = build_weights(config, tensor)
    tok = None
    if "tokenizer.ggml.model" in meta:
        tok = TokenizerData(
            model=str(meta["tokenizer.ggml.model"]), pre=str(meta.get("tokenizer.ggml.pre", "default")),
            tokens=list(meta.get("tokenizer.ggml.tokens", [])),
            token_types=[int(x) for x in meta.get("tokenizer.ggml.token_type", [])],
            merges=list(meta.get("tokenizer.ggml.merges", [])),
            bos_id=int(meta["tokenizer.ggml.bos_token_id"]) if "tokenizer.ggml.bos_token_id" in meta else None,
            eos_id=int(meta["tokenizer.ggml.eos_token_id"]) if "tokenizer.ggml.eos_token_id" in meta else None,
            chat_template=meta.get("tokenizer.chat_template"))
    small_meta = {k: v for k, v in meta.items() if not k.startswith("tokenizer.ggml.")}
    return GGUFModel(weights=weights, tokenizer=tok, metadata=small_meta)
