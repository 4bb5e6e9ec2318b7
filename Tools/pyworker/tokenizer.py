"""Byte-level BPE (GPT-2 style) built from GGUF tokenizer metadata, with ChatML rendering.

Pre-tokenization follows Hugging Face `tokenizers` for the GGUF `tokenizer.ggml.pre` values
handled here: "smollm" (and the other StarCoder-family names) split every numeric character off
first (Digits(individual_digits=True)), then apply the GPT-2 expression

    's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+

which is implemented by hand below (Python's `re` has no \\p{..} classes). Control and
user-defined tokens (GGUF token types 3 and 4) are matched literally in the text before that.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

from .errors import WorkerError
from .gguf_model import TokenizerData

# Unicode White_Space (what \s means in the Rust regex crate used by `tokenizers`).
_WHITESPACE = frozenset("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                        "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")
_DIGIT_SPLIT_PRE = {"smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva"}
_PLAIN_PRE = {"default", "gpt2", "gpt-2"}
SPECIAL_TYPES = (3, 4)  # CONTROL, USER_DEFINED


def _cls(ch: str) -> str:
    if ch in _WHITESPACE:
        return "s"
    cat = unicodedata.category(ch)
    if cat[0] == "L":
        return "L"
    if cat[0] == "N":
        return "N"
    return "o"


def gpt2_split(text: str) -> list[str]:
    """The GPT-2 pre-tokenizer expression, applied left to right with its alternation order."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            m = next((c for c in _CONTRACTIONS if text.startswith(c, i)), None)
            if m:
                out.append(m)
                i += len(m)
                continue
        c = _cls(ch)
        j = i
        if ch == " " and i + 1 < n and _cls(text[i + 1]) != "s":
            j = i + 1  # optional leading space joins the next run
            c = _cls(text[j])
        if c in ("L", "N", "o"):
            k = j + 1
            while k < n and _cls(text[k]) == c:
                k += 1
            out.append(text[i:k])
            i = k
            continue
        # whitespace run: \s+(?!\S) leaves the last char when non-space follows; then \s+.
        k = i
        while k < n and _cls(text[k]) == "s":
            k += 1
        if k < n and k - i > 1:
            out.append(text[i:k - 1])
            i = k - 1
        elif k < n:  # single whitespace char before a non-space that is not ' ' (else joined above)
            out.append(text[i:k])
            i = k
        else:
            out.append(text[i:k])
            i = k
    return out


def digit_split(text: str) -> list[str]:
    """Digits(individual_digits=True): every numeric character becomes its own piece."""
    out: list[str] = []
    start = 0
    for i, ch in enumerate(text):
        if unicodedata.category(ch)[0] == "N":
            if start < i:
                out.append(text[start:i])
            out.append(ch)
            start = i + 1
    if start < len(text):
        out.append(text[start:])
    return out


@lru_cache(maxsize=1)
def byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from bytes to printable characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = list(bs)
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


class BPETokenizer:
    def __init__(self, data: TokenizerData):
        if data.model != "gpt2":
            raise WorkerError(422, "model_invalid", f"tokenizer model '{data.model}' is not supported (only byte-level BPE 'gpt2')")
        if data.pre in _DIGIT_SPLIT_PRE:
            self.split_digits = True
        elif data.pre in _PLAIN_PRE:
            self.split_digits = False
        else:
            raise WorkerError(422, "model_invalid", f"pre-tokenizer '{data.pre}' is not supported")
        self.tokens = data.tokens
        self.vocab = {t: i for i, t in enumerate(data.tokens)}
        self.ranks: dict[tuple[str, str], int] = {}
        for r, m in enumerate(data.merges):
            a, _, b = m.partition(" ")
            self.ranks[(a, b)] = r
        types = data.token_types or [1] * len(data.tokens)
        self.special = {t: i for i, (t, ty) in enumerate(zip(data.tokens, types)) if ty in SPECIAL_TYPES}
        self.special_ids = set(self.special.values())
        self._special_by_first: dict[str, list[str]] = {}
        for s in sorted(self.special, key=len, reverse=True):  # longest match first
            if s:
                self._special_by_first.setdefault(s[0], []).append(s)
        self.bos_id, self.eos_id = data.bos_id, data.eos_id
        self.b2u = byte_to_unicode()
        self.u2b = {u: b for b, u in self.b2u.items()}
        self._cache: dict[str, list[int]] = {}

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    def _bpe(self, word: str) -> list[int]:
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        parts = list(word)
        while len(parts) > 1:
            best, best_rank = -1, None
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best < 0:
                break
            a, b = parts[best], parts[best + 1]
            merged: list[str] = []
            i = 0
            while i < len(parts):
                if i < len(parts) - 1 and parts[i] == a and parts[i + 1] == b:
                    merged.append(a + b)
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        ids = []
        for p in parts:
            tid = self.vocab.get(p)
            if tid is None:  # a merge result missing from the vocabulary: fall back to its single bytes
                ids.extend(self.vocab[ch] for ch in p if ch in self.vocab)
            else:
                ids.append(tid)
        if len(self._cache) < 100_000:
            self._cache[word] = ids
        return ids

    def _encode_plain(self, text: str) -> list[int]:
        ids: list[int] = []
        pieces = digit_split(text) if self.split_digits else [text]
        for piece in pieces:
            for word in gpt2_split(piece):
                ids.extend(self._bpe("".join(self.b2u[b] for b in word.encode("utf-8"))))
        return ids

    def encode(self, text: str, parse_special: bool = True) -> list[int]:
        """Token ids of `text`; with parse_special, control-token strings become their ids."""
        if not parse_special or not self.special:
            return self._encode_plain(text)
        ids: list[int] = []
        start = i = 0
        while i < len(text):
            candidates = self._special_by_first.get(text[i])
            m = next((s for s in candidates if text.startswith(s, i)), None) if candidates else None
            if m:
                ids.extend(self._encode_plain(text[start:i]))
                ids.append(self.special[m])
                i += len(m)
                start = i
            else:
                i += 1
        ids.extend(self._encode_plain(text[start:]))
        return ids

    def decode_bytes(self, ids: list[int], skip_special: bool = False) -> bytes:
        out = bytearray()
        for i in ids:
            t = self.tokens[i]
            if i in self.special_ids:
                if not skip_special:
                    out += t.encode("utf-8")
            else:
                for ch in t:
                    b = self.u2b.get(ch)
                    out += bytes([b]) if b is not None else ch.encode("utf-8")
        return bytes(out)

    def decode(self, ids: list[int], skip_special: bool = False) -> str:
        return self.decode_bytes(ids, skip_special).decode("utf-8", errors="replace")


def byte_level_tokenizer() -> BPETokenizer:
    """A 256-token byte-level vocabulary without merges (for synthetic models with vocab 256)."""
    b2u = byte_to_unicode()
    return BPETokenizer(TokenizerData(model="gpt2", pre="default", tokens=[b2u[b] for b in range(256)],
                                      token_types=[1] * 256, merges=[], bos_id=None, eos_id=None, chat_template=None))


class ChatTemplate:
    """ChatML rendering recognised from a Jinja `tokenizer.chat_template` (see the Swift ChatTemplate):
    an optional default system turn, `<|im_start|>{role}\\n{content}<|im_end|>\\n` per message, and
    `<|im_start|>assistant\\n` as the generation prompt. Other templates are refused, never guessed."""

    def __init__(self, source: str):
        if "<|im_start|>" not in source or "<|im_end|>" not in source:
            raise WorkerError(422, "unsupported", "the chat template is not ChatML")
        for construct in ("tools", "tool_calls", "reasoning_content", "<think>"):
            if construct in source:
                raise WorkerError(422, "unsupported", f"the chat template uses '{construct}', which is not implemented")
        self.default_system = None
        marker = "messages[0]['role'] != 'system'"
        at = source.find(marker)
        if at >= 0:
            rest = source[at + len(marker):]
            open_ = rest.find("{{")
            quote_at = open_ + 2
            while quote_at < len(rest) and rest[quote_at] == " ":
                quote_at += 1
            q = rest[quote_at] if quote_at < len(rest) else ""
            end = rest.find(q, quote_at + 1) if q in ("'", '"') else -1
            literal = rest[quote_at + 1:end] if end > 0 else ""
            literal = literal.replace("\\n", "\n")
            pre, suf = "<|im_start|>system\n", "<|im_end|>\n"
            if not (literal.startswith(pre) and literal.endswith(suf)):
                raise WorkerError(422, "unsupported", "the default system turn of the chat template is not a ChatML literal")
            self.default_system = literal[len(pre):-len(suf)]

    def render(self, messages: list[dict], add_generation_prompt: bool = True) -> str:
        out = ""
        if self.default_system is not None and messages and messages[0]["role"] != "system":
            out += f"<|im_start|>system\n{self.default_system}<|im_end|>\n"
        for m in messages:
            out += f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n"
        if add_generation_prompt:
            out += "<|im_start|>assistant\n"
        return out
