"""llama.cpp's side of `chorus-bench worker --vs-llama-cpp` (run by it, or by Tools/bench-llama-cpp.sh).

Loads a GGUF with llama-cpp-python and measures, with the same token ids and shapes as Chorus's
ComputeBenchmark: prefill tokens/s (one prompt of --prompt-tokens, best of --repetitions, each
into a reset context), decode tokens/s (a --decode-prompt-tokens prompt, then --decode-steps
greedy one-token steps, argmax on the host as Chorus does), and the process's resident memory
(VmRSS after the runs, VmHWM peak) from /proc/self/status; beside each rate, the process CPU
time per token (all threads), which a machine shared with other work disturbs less than wall
time. Prints one JSON object.
"""

import argparse
import json
import time

import numpy as np
from llama_cpp import Llama


def proc_status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--decode-prompt-tokens", type=int, default=32)
    ap.add_argument("--decode-steps", type=int, default=64)
    ap.add_argument("--repetitions", type=int, default=3)
    args = ap.parse_args()

    llm = Llama(model_path=args.model, n_threads=args.threads, n_threads_batch=args.threads,
                n_ctx=max(args.prompt_tokens, args.decode_prompt_tokens + args.decode_steps) + 8,
                n_batch=512, n_ubatch=512, logits_all=False, verbose=False)
    vocab = llm.n_vocab()
    # The same ids as ComputeBenchmark.prefill (sequence 0) and .decode (sequence 0).
    prompt = [(i * 7919) % vocab for i in range(args.prompt_tokens)]
    decode_prompt = [(i * 31 + 5) % vocab for i in range(args.decode_prompt_tokens)]

    # Wall-clock time (best run) and process CPU time, all threads (least CPU-hungry run).
    best_prefill, cpu_prefill = float("inf"), float("inf")
    for i in range(args.repetitions + 1):  # the first is a warm-up
        llm.reset()
        start, cpu = time.perf_counter(), time.process_time()
        llm.eval(prompt)
        if i > 0:
            best_prefill = min(best_prefill, time.perf_counter() - start)
            cpu_prefill = min(cpu_prefill, time.process_time() - cpu)

    best_decode, cpu_decode = float("inf"), float("inf")
    for _ in range(max(1, args.repetitions)):
        llm.reset()
        llm.eval(decode_prompt)
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.decode_steps):
            token = int(np.argmax(llm.scores[llm.n_tokens - 1]))
            llm.eval([token])
        best_decode = min(best_decode, time.perf_counter() - start)
        cpu_decode = min(cpu_decode, time.process_time() - cpu)

    print(json.dumps({
        "implementation": "llama.cpp (llama-cpp-python %s)" % __import__("llama_cpp").__version__,
        "threads": args.threads,
        "prefill_tokens_per_s": args.prompt_tokens / best_prefill,
        "decode_tokens_per_s": args.decode_steps / best_decode,
        "prefill_cpu_ms_per_token": 1000 * cpu_prefill / args.prompt_tokens,
        "decode_cpu_ms_per_token": 1000 * cpu_decode / args.decode_steps,
        "rss_mb": proc_status_kb("VmRSS") / 1024,
        "peak_rss_mb": proc_status_kb("VmHWM") / 1024,
    }))


if __name__ == "__main__":
    main()
