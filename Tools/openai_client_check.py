#!/usr/bin/env python3
"""Calls every devnet node's OpenAI-compatible API with the `openai` client (PyPI), streaming and
not, and checks the answer and where it ran. Used by Tools/test-openai-client.sh.

    openai_client_check.py --ports 8701,8702,... --model ID [--own-models 4:ID,5:ID]
Prints one JSON object per call and a summary; exits 1 if any call failed its check."""
import argparse, json, sys, time
from openai import OpenAI

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ports", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--question", default="What is the capital of France?")
    ap.add_argument("--expect", default="Paris")
    args = ap.parse_args()
    failures, results = 0, []
    for i, port in enumerate(int(p) for p in args.ports.split(",")):
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none", max_retries=0, timeout=120)
        ids = [m.id for m in client.models.list().data]
        t = time.time()
        r = client.chat.completions.create(model=args.model, temperature=0, max_tokens=24,
                                           messages=[{"role": "user", "content": args.question}])
        text = r.choices[0].message.content
        executor = (r.model_extra or {}).get("chorus", {}).get("executor", "")
        ok = args.expect in text and r.usage.completion_tokens > 0 and r.choices[0].finish_reason in ("stop", "length")
        results.append({"node": i + 1, "stream": False, "ok": ok, "text": text, "executor": executor[:12],
                        "seconds": round(time.time() - t, 2), "models": ids})
        t = time.time()
        pieces, usage, chunk_executor = [], None, ""
        stream = client.chat.completions.create(model=args.model, temperature=0, max_tokens=24, stream=True,
                                                stream_options={"include_usage": True},
                                                messages=[{"role": "user", "content": args.question}])
        first = None
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                if first is None:
                    first = time.time() - t
                pieces.append(chunk.choices[0].delta.content)
            if chunk.usage:
                usage = chunk.usage
            extra = (chunk.model_extra or {}).get("chorus")
            if extra:
                chunk_executor = extra.get("executor", "")
        text = "".join(pieces)
        ok2 = args.expect in text and usage is not None and usage.completion_tokens > 0 and len(pieces) > 1
        results.append({"node": i + 1, "stream": True, "ok": ok2, "text": text, "executor": chunk_executor[:12],
                        "pieces": len(pieces), "ttft_s": round(first or -1, 3), "seconds": round(time.time() - t, 2)})
        failures += (not ok) + (not ok2)
    for r in results:
        print(json.dumps(r))
    print(json.dumps({"calls": len(results), "failed": failures,
                      "executors": sorted({r["executor"] for r in results})}))
    sys.exit(1 if failures else 0)

if __name__ == "__main__":
    main()
