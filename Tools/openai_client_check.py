#!/usr/bin/env python3
"""Calls every devnet node's OpenAI-compatible API with the `openai` client (PyPI), streaming and
not, and checks the answer and where it ran. Used by Tools/test-openai-client.sh.

    openai_client_check.py --ports 8701,8702,... --model ID [--keys K1,K2,...] [--routed 1,2,3]
Every answer must contain --expect and carry the gateway-checked receipt id in its `chorus` field;
the nodes in --routed (1-based) must have been served by another node than themselves (their key
in --keys). Prints one JSON object per call and a summary; exits 1 if any call failed its check."""
import argparse, json, sys, time
from openai import OpenAI

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ports", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--question", default="What is the capital of France?")
    ap.add_argument("--expect", default="Paris")
    ap.add_argument("--keys", default="", help="the nodes' public keys (hex), in port order")
    ap.add_argument("--routed", default="", help="nodes (1-based) whose requests must run on another node")
    args = ap.parse_args()
    keys = [k for k in args.keys.split(",") if k]
    routed = {int(n) for n in args.routed.split(",") if n}

    def placed(node, executor):
        """True unless the node must route and served itself (or the executor is unknown)."""
        if node not in routed:
            return True
        return bool(executor) and node - 1 < len(keys) and executor != keys[node - 1]

    failures, results = 0, []
    for i, port in enumerate(int(p) for p in args.ports.split(",")):
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none", max_retries=0, timeout=120)
        ids = [m.id for m in client.models.list().data]
        t = time.time()
        r = client.chat.completions.create(model=args.model, temperature=0, max_tokens=24,
                                           messages=[{"role": "user", "content": args.question}])
        text = r.choices[0].message.content
        chorus = (r.model_extra or {}).get("chorus", {})
        executor, receipt = chorus.get("executor", ""), chorus.get("receipt_id")
        ok = (args.expect in text and r.usage.completion_tokens > 0 and r.choices[0].finish_reason in ("stop", "length")
              and bool(receipt) and placed(i + 1, executor))
        results.append({"node": i + 1, "stream": False, "ok": ok, "text": text, "executor": executor[:12],
                        "receipt": (receipt or "")[:12], "seconds": round(time.time() - t, 2), "models": ids})
        t = time.time()
        pieces, usage, chunk_executor, chunk_receipt = [], None, "", None
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
                chunk_receipt = extra.get("receipt_id") or chunk_receipt
        text = "".join(pieces)
        ok2 = (args.expect in text and usage is not None and usage.completion_tokens > 0 and len(pieces) > 1
               and bool(chunk_receipt) and placed(i + 1, chunk_executor))
        results.append({"node": i + 1, "stream": True, "ok": ok2, "text": text, "executor": chunk_executor[:12],
                        "receipt": (chunk_receipt or "")[:12], "pieces": len(pieces), "ttft_s": round(first or -1, 3), "seconds": round(time.time() - t, 2)})
        failures += (not ok) + (not ok2)
    for r in results:
        print(json.dumps(r))
    print(json.dumps({"calls": len(results), "failed": failures,
                      "executors": sorted({r["executor"] for r in results})}))
    sys.exit(1 if failures else 0)

if __name__ == "__main__":
    main()
