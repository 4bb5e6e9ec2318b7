#!/usr/bin/env python3
"""Writes Specs/vectors/executor-draw.json: the executor draw of Specs/inference-routing.md §2,
computed independently of the Swift code (hashlib's BLAKE2b, Python integers)."""
import hashlib, json, os, struct

def value(request_id: bytes, attempt: int) -> int:
    digest = hashlib.blake2b(b"chorus/executor-draw/1\0" + request_id + struct.pack("<I", attempt), digest_size=32).digest()
    return int.from_bytes(digest[:8], "little")

def draw(request_id, attempt, candidates, excluded):
    remaining = [(p, w) for p, w in candidates if p not in excluded and w > 0]
    total = sum(w for _, w in remaining)
    if total == 0 or total >= 2**64:
        return None
    target = (value(request_id, attempt) * total) >> 64
    running = 0
    for p, w in remaining:
        running += w
        if running > target:
            return p
    return remaining[-1][0]

def participant(i):
    return hashlib.blake2b(b"participant" + bytes([i]), digest_size=32).digest()

cases = []
group = [(participant(i), w) for i, w in enumerate([5, 1, 120, 0, 40, 7])]
group.sort()
for n in range(8):
    rid = hashlib.blake2b(b"request" + bytes([n]), digest_size=32).digest()
    excluded = {group[n % len(group)][0]} if n % 3 == 2 else set()
    for attempt in range(3):
        chosen = draw(rid, attempt, group, excluded)
        cases.append({
            "request_id": rid.hex(), "attempt": attempt,
            "excluded": sorted(p.hex() for p in excluded),
            "value": str(value(rid, attempt)),
            "executor": chosen.hex() if chosen else None,
        })
out = {
    "description": "Executor draws (Specs/inference-routing.md §2): value = first 8 bytes LE of BLAKE2b-256('chorus/executor-draw/1\\0' || request_id || attempt u32 LE); target = floor(value * W / 2^64) over the group minus `excluded`; the first candidate whose running weight exceeds it.",
    "group": [{"participant": p.hex(), "weight": w} for p, w in group],
    "cases": cases,
}
path = os.path.join(os.path.dirname(__file__), "..", "..", "Specs", "vectors", "executor-draw.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(path)
