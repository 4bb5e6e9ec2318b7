"""The numpy tape sampler (pyworker/tape.py) against Specs/vectors/inference.json, which the pure-Python
reference Tools/vectors/inference_vectors.py wrote and the Swift tests (InferenceTapeTests) also load:
both implementations choose the same token, kept set and margin for the same logits."""
import math
import struct

import numpy as np
import pytest

from pyworker import generation, tape
from conftest import load_vectors


def f32(h: str) -> float:
    return struct.unpack("<f", bytes.fromhex(h))[0]


def f64(h: str) -> float:
    return struct.unpack("<d", bytes.fromhex(h))[0]


def ulps(a: float, b: float) -> int:
    ia, ib = (struct.unpack("<q", struct.pack("<d", x))[0] for x in (a, b))
    return abs(ia - ib)


def test_uniforms_are_exact_and_gumbels_match_to_an_ulp():
    v = load_vectors("inference.json")["tape"]
    worst = 0
    for stream in v["streams"]:
        key = bytes.fromhex(stream["seed"])
        for e in stream["entries"]:
            ids = np.array([e["token"]])
            assert tape.uniforms(key, e["position"], ids, e["vocab"])[0] == f64(e["u"])
            g = float(tape.gumbels(key, e["position"], ids, e["vocab"])[0])
            # numpy's vectorised log may differ from the C library's by an ulp (Specs/inference.md §4).
            worst = max(worst, ulps(g, f64(e["g"])))
    assert worst <= 2


def test_choices_match_vectors():
    cases = load_vectors("inference.json")["choices"]
    assert len(cases) >= 20
    for c in cases:
        logits = np.array([f32(h) for h in c["logits"]], dtype=np.float32)
        got = tape.choose(logits, c["temperature"] / 1e6, c["top_k"], c["top_p"] / 1e6, bytes.fromhex(c["seed"]), c["position"],
                          c["against"])
        assert got["token"] == c["token"], c["name"]
        assert got["used_tape"] == c["used_tape"], c["name"]
        assert got["kept"] == c["kept"], c["name"]
        if c["margin"] is None:
            assert math.isinf(got["margin"]), c["name"]
        else:
            assert abs(got["margin"] - c["margin"]) <= 1e-9 * max(1.0, abs(c["margin"])), c["name"]
        if c["against"] is not None:
            if c["margin_to_other"] is None:
                assert math.isinf(got["margin_to_other"]), c["name"]
            else:
                assert abs(got["margin_to_other"] - c["margin_to_other"]) <= 1e-9 * max(1.0, abs(c["margin_to_other"])), c["name"]


def test_non_finite_logits_and_missing_key_are_errors():
    with pytest.raises(ValueError):
        tape.choose(np.array([1.0, np.nan], dtype=np.float32), 0.0, 0, 1.0, None, 0)
    with pytest.raises(ValueError):
        tape.choose(np.array([1.0, np.inf], dtype=np.float32), 1.0, 0, 1.0, bytes(32), 0)
    with pytest.raises(ValueError):
        tape.choose(np.array([1.0, 2.0], dtype=np.float32), 1.0, 0, 1.0, None, 0)


def test_frequencies_follow_the_softmax():
    row = np.array([2.0, 1.0, 0.0, -1.0], dtype=np.float32)
    key = bytes(range(32))
    n = 20_000
    counts = np.bincount([tape.choose(row, 1.0, 0, 1.0, key, p)["token"] for p in range(n)], minlength=4)
    p = np.exp(row.astype(np.float64)) / np.exp(row.astype(np.float64)).sum()
    assert np.all(np.abs(counts - p * n) < 5 * np.sqrt(p * n))


def test_generation_follows_the_tape_at_every_position(tiny_model):
    """Every sampled token is the tape's choice from the teacher-forced logits (the validator's re-run)."""
    key = bytes.fromhex("ab" * 32)
    sampling = generation.Sampling(temperature=0.9, top_k=40, top_p=0.95, tape_seed=key)
    prompt = [10, 20, 30, 40]
    steps = [s for s in generation.generate(tiny_model, prompt, 10, sampling, 0, set()) if "id" in s]
    assert len(steps) == 10 and all(s["tape"]["choice"] == s["id"] for s in steps)
    ids = np.asarray([prompt + [s["id"] for s in steps[:-1]]], dtype=np.int64)
    logits = tiny_model.token_logits(ids, None, rows=slice(len(prompt) - 1, len(prompt) - 1 + len(steps)))[0]
    for t, s in enumerate(steps):
        assert tape.choose(logits[t], 0.9, 40, 0.95, key, t)["token"] == s["id"]
    other = [s["id"] for s in generation.generate(tiny_model, prompt, 10, generation.Sampling(temperature=0.9, top_k=40, top_p=0.95,
                                                                                                tape_seed=bytes(32)), 0, set()) if "id" in s]
    assert other != [s["id"] for s in steps]
    # A u64 seed keys the tape through sample_key.
    by_seed = [s["id"] for s in generation.generate(tiny_model, prompt, 6, generation.Sampling(temperature=0.9, seed=5), 0, set()) if "id" in s]
    by_key = [s["id"] for s in generation.generate(tiny_model, prompt, 6, generation.Sampling(temperature=0.9, tape_seed=generation.sample_key(5)),
                                                   0, set()) if "id" in s]
    assert by_seed == by_key


def test_generations_match_the_tape_synthetic_vectors(tiny_model):
    """The file the Swift worker's test compares itself with (InferenceTapeTests.sampledTokensMatchThePythonWorker)."""
    v = load_vectors("tape-synthetic.json")
    assert v["synthetic_seed"] == bytes(range(32)).hex()
    for c in v["cases"]:
        sampling = generation.Sampling(temperature=c["temperature"], top_k=c["top_k"], top_p=c["top_p"],
                                       tape_seed=bytes.fromhex(c["tape_seed"]))
        steps = [s for s in generation.generate(tiny_model, c["prompt"], c["max_tokens"], sampling, 0, set()) if "id" in s]
        assert [s["id"] for s in steps] == c["tokens"]
        assert [s["tape"]["kept"] for s in steps] == c["kept"]
