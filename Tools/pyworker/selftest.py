"""`python3 -m pyworker selftest`: checks the torch backend against the golden vectors, then
measures PoC nonces/s and decode tokens/s on synthetic models (no files needed beyond Specs/vectors).

Exit status 0 when every check passes, 1 when one fails, 2 when torch is not installed.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from . import poc, rng, synthetic
from .config import LlamaConfig

VECTORS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Specs", "vectors"))

#: Benchmark shapes: (name, config, seq_len, batch on CUDA, batch on CPU, nonces on CUDA, nonces on CPU).
BENCH = [
    ("tiny", synthetic.TINY, 16, 1024, 64, 8192, 256),
    ("devnet", synthetic.DEVNET, 16, 1024, 32, 8192, 64),
    ("smollm2-shape", LlamaConfig(hidden_size=576, layer_count=30, head_count=9, kv_head_count=3,
                                  feed_forward_size=1536, vocab_size=49152, context_length=2048,
                                  rope_base=100000.0), 8, 512, 16, 4096, 32),
    ("testnet-shape", LlamaConfig(hidden_size=1024, layer_count=32, head_count=16, kv_head_count=16,
                                  feed_forward_size=4096, vocab_size=8192, context_length=512,
                                  rope_base=500000.0), 128, 64, 0, 512, 0),
]


def _load(name: str) -> dict:
    with open(os.path.join(VECTORS, name)) as f:
        return json.load(f)


def check_vectors(tb, device, dtype: str, report: list) -> bool:
    import torch

    ok = True
    ref = _load("counter-rng-poc.json")
    for s in ref["streams"]:
        key = bytes.fromhex(s["key"])
        w = tb.words(key, torch.arange(4, dtype=torch.int64, device=device)).cpu().tolist()
        got_words = [format(x & rng.MASK64, "016x") for x in w]
        got_normals = tb.normals(key, 16, device).cpu().numpy().tolist()
        got_sums = tb.centered_sums(key, 16, 0, device).cpu().tolist()  # the int64 path, on any device
        good = got_words == s["words"] and got_normals == s["normals"] and got_sums == s["centered_sums"]
        ok &= good
        report.append(("rng " + s["key"][:8], "exact" if good else "MISMATCH"))
    syn = _load("poc-synthetic.json")
    for case in syn["cases"]:
        cfg = LlamaConfig(**case["config"])
        seed = bytes.fromhex(case["synthetic_seed"])
        weights = tb.build_synthetic(cfg, seed, device)
        ref_embed = synthetic.tensor_values(seed, "token_embd.weight", [cfg.hidden_size, cfg.vocab_size])
        exact_w = bool(np.array_equal(weights.embed.cpu().numpy(), ref_embed))
        model = tb.TorchLlama(weights, device, dtype)
        task = poc.PoCTask(bytes.fromhex(case["epoch_seed"]), bytes.fromhex(case["participant"]), case["model_id"],
                           case["seq_len"])
        nonces = [n["nonce"] for n in case["nonces"]]
        inputs = model.poc_inputs([task.nonce_key(n) for n in nonces], task.seq_len).cpu().numpy()
        exact_in = all(inputs[i].reshape(-1)[:8].tolist() == n["inputs_first8"] for i, n in enumerate(case["nonces"]))
        vectors = poc.PoCComputer(model, task).compute(nonces)
        dists = [poc.distance(bytes.fromhex(n["vector"]), v) if v is not None else float("inf")
                 for n, v in zip(case["nonces"], vectors)]
        good = exact_w and exact_in and max(dists) <= case["dist_threshold"]
        ok &= good
        report.append((f"poc {case['name']}", f"weights {'exact' if exact_w else 'MISMATCH'}, inputs "
                       f"{'exact' if exact_in else 'MISMATCH'}, max distance {max(dists):.2e} "
                       f"(threshold {case['dist_threshold']}) {'ok' if good else 'FAIL'}"))
    return ok


def bench(tb, device, dtype: str, report: list, quick: bool) -> None:
    import torch

    cuda = device.type == "cuda"
    for name, cfg, seq_len, b_gpu, b_cpu, n_gpu, n_cpu in BENCH:
        batch, total = (b_gpu, n_gpu) if cuda else (b_cpu, n_cpu)
        if quick:
            total = min(total, 2 * batch)
        if batch == 0:
            report.append((f"bench {name}", "skipped on CPU"))
            continue
        try:
            t0 = time.perf_counter()
            model = tb.TorchLlama(tb.build_synthetic(cfg, bytes(32), device), device, dtype)
            tb.synchronize(device)
            build_s = time.perf_counter() - t0
            comp = poc.PoCComputer(model, poc.PoCTask(bytes(32), bytes(32), f"bench/{name}", seq_len))
            comp.compute(list(range(batch)))  # warm-up
            tb.synchronize(device)
            t0 = time.perf_counter()
            done = 0
            while done < total:
                comp.compute(list(range(done, done + batch)))
                done += batch
            tb.synchronize(device)
            rate = done / (time.perf_counter() - t0)
            steps = 32 if cuda else 8
            cache = model.new_cache(1, 64 + steps)
            model.token_logits(np.arange(64)[None, :] % cfg.vocab_size, cache)
            t0 = time.perf_counter()
            for i in range(steps):
                model.token_logits(np.array([[i % cfg.vocab_size]]), cache)
            tok_s = steps / (time.perf_counter() - t0)
            report.append((f"bench {name}", f"{cfg.parameter_count / 1e6:.1f} M params, seq_len {seq_len}, batch {batch}: "
                           f"{rate:,.1f} nonces/s; decode {tok_s:,.1f} tok/s; build {build_s:.1f} s"))
            del model, comp
            if cuda:
                torch.cuda.empty_cache()
        except (RuntimeError, MemoryError) as e:  # e.g. out of memory on a small device
            report.append((f"bench {name}", f"not run: {type(e).__name__}: {str(e)[:120]}"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m pyworker selftest", description=__doc__)
    ap.add_argument("--device", default=None)
    ap.add_argument("--dtype", choices=["fp32", "fp16", "bf16"], default=None,
                    help="default: bf16 on CUDA, fp32 on CPU")
    ap.add_argument("--quick", action="store_true", help="a short benchmark (two batches per shape)")
    ap.add_argument("--no-bench", action="store_true")
    args = ap.parse_args(argv)
    try:
        import torch

        from . import torch_backend as tb
    except ImportError as e:
        print(f"selftest: PyTorch is not installed ({e}); the torch backend cannot run here. "
              "Install torch (CPU or CUDA build) and run again.", file=sys.stderr)
        return 2
    device = tb.pick_device(args.device)
    dtype = args.dtype or ("bf16" if device.type == "cuda" else "fp32")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"selftest: torch {torch.__version__}, device {device} ({name}), dtype {dtype}", flush=True)
    report: list = []
    ok = check_vectors(tb, device, dtype, report)
    for k, v in report:
        print(f"  {k:24s} {v}", flush=True)
    if not args.no_bench:
        report.clear()
        bench(tb, device, dtype, report, args.quick)
        for k, v in report:
            print(f"  {k:24s} {v}", flush=True)
    print("selftest: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
