"""Model shapes and model identity digests (Specs/poc-kernel.md §7)."""
from __future__ import annotations

import dataclasses
import hashlib
import struct
from typing import Any

from .errors import WorkerError

SYNTHETIC_DIGEST_TAG = b"chorus/synthetic-model/1\x00"


@dataclasses.dataclass(frozen=True)
class LlamaConfig:
    """A Llama-family decoder: pre-RMSNorm blocks, rotary GQA attention, SwiGLU feed-forward."""

    hidden_size: int
    layer_count: int
    head_count: int
    kv_head_count: int
    feed_forward_size: int
    vocab_size: int
    context_length: int
    head_dim: int = 0  # 0: hidden_size // head_count
    rope_base: float = 10000.0
    rope_dimensions: int = 0  # 0: head_dim
    rms_epsilon: float = 1e-5
    tied_embeddings: bool = True

    def __post_init__(self) -> None:
        if self.head_dim == 0 and self.head_count > 0:
            object.__setattr__(self, "head_dim", self.hidden_size // self.head_count)
        if self.rope_dimensions == 0:
            object.__setattr__(self, "rope_dimensions", self.head_dim)
        # Store the float fields at fp32 precision: that is what GGUF holds and what the digest encodes.
        object.__setattr__(self, "rope_base", struct.unpack("<f", struct.pack("<f", float(self.rope_base)))[0])
        object.__setattr__(self, "rms_epsilon", struct.unpack("<f", struct.pack("<f", float(self.rms_epsilon)))[0])

    @property
    def query_width(self) -> int:
        return self.head_count * self.head_dim

    @property
    def kv_width(self) -> int:
        return self.kv_head_count * self.head_dim

    @property
    def parameter_count(self) -> int:
        d, q, kv, f = self.hidden_size, self.query_width, self.kv_width, self.feed_forward_size
        per_layer = 2 * d + d * (q + 2 * kv) + q * d + 3 * d * f
        return self.vocab_size * d * (1 if self.tied_embeddings else 2) + d + self.layer_count * per_layer

    def validation_failure(self) -> str | None:
        """Why the shape cannot run, or None."""
        sizes = [self.hidden_size, self.layer_count, self.head_count, self.kv_head_count, self.head_dim,
                 self.feed_forward_size, self.vocab_size, self.context_length]
        if any(s <= 0 for s in sizes):
            return "all sizes must be positive"
        if self.head_count % self.kv_head_count:
            return f"head_count {self.head_count} is not a multiple of kv_head_count {self.kv_head_count}"
        if self.head_dim % 2:
            return f"head_dim {self.head_dim} must be even"
        if not (0 < self.rope_dimensions <= self.head_dim) or self.rope_dimensions % 2:
            return f"rope_dimensions {self.rope_dimensions} must be even and at most head_dim {self.head_dim}"
        if not (self.rope_base > 0 and self.rope_base != float("inf")):
            return "rope_base must be positive and finite"
        if not (self.rms_epsilon > 0 and self.rms_epsilon != float("inf")):
            return "rms_epsilon must be positive and finite"
        if self.hidden_size > 58_000:
            return "hidden_size above 58,000 is outside the PoC kernel's exact range"
        return None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_json(obj: Any, field: str = "config") -> "LlamaConfig":
        """Parses the JSON shape of Specs/worker.md §4.4; raises WorkerError(400) on bad input."""
        if not isinstance(obj, dict):
            raise WorkerError(400, "invalid_request", "must be an object", field)
        ints = ["hidden_size", "layer_count", "head_count", "kv_head_count", "feed_forward_size", "vocab_size",
                "context_length"]
        optional_ints = ["head_dim", "rope_dimensions"]
        floats = ["rope_base", "rms_epsilon"]
        known = set(ints) | set(optional_ints) | set(floats) | {"tied_embeddings"}
        unknown = sorted(set(obj) - known)
        if unknown:
            raise WorkerError(400, "invalid_request", f"unknown config key '{unknown[0]}'", f"{field}.{unknown[0]}")
        kwargs: dict[str, Any] = {}
        for name in ints + optional_ints:
            if name not in obj:
                if name in ints:
                    raise WorkerError(400, "invalid_request", "is required", f"{field}.{name}")
                continue
            v = obj[name]
            if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v > 1 << 31:
                raise WorkerError(400, "invalid_request", "must be a non-negative integer below 2^31", f"{field}.{name}")
            kwargs[name] = v
        for name in floats:
            if name in obj:
                v = obj[name]
                if not isinstance(v, (int, float)) or isinstance(v, bool):
                    raise WorkerError(400, "invalid_request", "must be a number", f"{field}.{name}")
                kwargs[name] = float(v)
        if "tied_embeddings" in obj:
            if not isinstance(obj["tied_embeddings"], bool):
                raise WorkerError(400, "invalid_request", "must be a boolean", f"{field}.tied_embeddings")
            kwargs["tied_embeddings"] = obj["tied_embeddings"]
        cfg = LlamaConfig(**kwargs)
        failure = cfg.validation_failure()
        if failure:
            raise WorkerError(400, "invalid_request", failure, field)
        return cfg


def synthetic_digest(config: LlamaConfig, seed: bytes) -> str:
    """`blake2b:<hex>` identity of a synthetic model (Specs/poc-kernel.md §7.2)."""
    if len(seed) != 32:
        raise ValueError("synthetic seed must be 32 bytes")
    data = SYNTHETIC_DIGEST_TAG + struct.pack(
        "<9I", config.hidden_size, config.layer_count, config.head_count, config.kv_head_count, config.head_dim,
        config.feed_forward_size, config.vocab_size, config.context_length, config.rope_dimensions)
    data += struct.pack("<ff", config.rope_base, config.rms_epsilon) + bytes([1 if config.tied_embeddings else 0]) + seed
    return "blake2b:" + hashlib.blake2b(data, digest_size=32).hexdigest()


def file_digest(path: str) -> str:
    """`sha256:<hex>` identity of a model file (Specs/poc-kernel.md §7.1)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 20)
            if not block:
                break
            h.update(block)
    return "sha256:" + h.hexdigest()
