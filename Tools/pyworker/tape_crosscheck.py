"""Honest flips between two worker implementations (Specs/inference.md §7): another worker (e.g. the
Swift one, `chorus worker serve`) generates sampled completions from the public tape over HTTP; this
process re-runs each one teacher-forced with the numpy backend, recomputes every position's tape
choice and counts flips and their margins, as a validator does. It measures the honest flip rate the
`honest_flip_rate` parameter must cover.

    cd Tools && python3 -m pyworker.tape_crosscheck --worker http://127.0.0.1:PORT --token TOKEN \\
        --model-path ~/.cache/chorus/models/SmolLM2-135M-Instruct.Q4_1.gguf [--checks 20] [--max-tokens 32] [--json]

The GGUF file must lie in the other worker's model directory. Needs numpy and gguf==0.19.0; no network
beyond the worker's address.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import os
import sys
import urllib.parse

import numpy as np

from . import gguf_model, tape
from .model_numpy import NumpyLlama
from .tokenizer import BPETokenizer, ChatTemplate

MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1"
PROMPTS = [
    "What is the capital of France?", "Write a haiku about the sea.", "List three prime numbers.",
    "Translate 'good morning' into Spanish.", "Explain photosynthesis in one sentence.", "Name a famous painter.",
    "What is 12 times 7?", "Give me a tip for learning to code.", "Describe the colour blue to someone who cannot see.",
    "Why is the sky blue?",
]
# (temperature, top_k, top_p): the API's usual settings.
SETTINGS = [(0.7, 40, 0.95), (1.0, 0, 1.0), (0.7, 0, 0.9), (0.0, 0, 1.0)]


def request(url: urllib.parse.ParseResult, token: str, method: str, path: str, body: dict | None = None) -> dict:
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    out = json.loads(r.read() or b"{}")
    if r.status >= 300:
        raise RuntimeError(f"{method} {path}: {r.status} {out}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", required=True)
    ap.add_argument("--token", default=os.environ.get("CHORUS_WORKER_TOKEN", ""))
    ap.add_argument("--model-path", required=True)
    ap.add_argument("--checks", type=int, default=20)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    url = urllib.parse.urlparse(args.worker)

    g = gguf_model.load(args.model_path)
    model = NumpyLlama(g.weights)
    tok = BPETokenizer(g.tokenizer)
    chat = ChatTemplate(g.tokenizer.chat_template)
    loaded = request(url, args.token, "GET", "/v1/info").get("models", [])
    if not any(m.get("id") == MODEL_ID for m in loaded):
        request(url, args.token, "POST", "/v1/models/load", {"id": MODEL_ID, "path": os.path.abspath(args.model_path)})

    positions = flips = out_of_set = 0
    margins: list[float] = []
    checks = []
    for i in range(args.checks):
        prompt = tok.encode(chat.render([{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}]))
        t, k, p = SETTINGS[i % len(SETTINGS)]
        seed = hashlib.blake2b(f"crosscheck {i}".encode(), digest_size=32).digest()
        reply = request(url, args.token, "POST", "/v1/generate", {
            "model": MODEL_ID, "prompt_tokens": prompt, "max_tokens": args.max_tokens, "stop_tokens": [],
            "sampling": {"temperature": t, "top_k": k, "top_p": p, "tape_seed": seed.hex()}, "stream": False})
        output = [line["id"] for line in reply["tokens"]]
        ids = np.asarray([prompt + output[:-1]], dtype=np.int64)
        logits = model.token_logits(ids, None, rows=slice(len(prompt) - 1, len(prompt) - 1 + len(output)))[0]
        f = 0
        for pos, x in enumerate(output):
            c = tape.choose(logits[pos], t, k, p, None if tape.is_greedy(t, k) else seed, pos, against=x)
            if c["token"] != x:
                f += 1
                if math.isinf(c["margin_to_other"]):
                    out_of_set += 1
                else:
                    margins.append(c["margin_to_other"])
        positions += len(output)
        flips += f
        checks.append({"prompt": PROMPTS[i % len(PROMPTS)], "temperature": t, "top_k": k, "top_p": p, "positions": len(output), "flips": f})
    summary = {"checks": len(checks), "positions": positions, "flips": flips, "flip_rate": flips / max(positions, 1),
               "out_of_set": out_of_set, "max_flip_margin": max(margins) if margins else None, "per_check": checks}
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"{summary['checks']} checks, {positions} positions: {flips} flips ({summary['flip_rate']:.4%}), "
              f"{out_of_set} out of set, largest flip margin {summary['max_flip_margin']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
