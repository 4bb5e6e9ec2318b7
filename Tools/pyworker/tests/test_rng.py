import os

import numpy as np
import pytest

from pyworker import rng, synthetic
from conftest import VECTORS, load_vectors


def test_words_normals_and_sums_match_golden_vectors():
    for s in load_vectors("counter-rng-poc.json")["streams"]:
        key = bytes.fromhex(s["key"])
        assert [format(rng.word_int(key, c), "016x") for c in range(4)] == s["words"]
        assert [format(int(w), "016x") for w in rng.words(key, np.arange(4, dtype=np.uint64))] == s["words"]
        assert rng.centered_sums(key, 16).tolist() == s["centered_sums"]
        assert rng.normals(key, 16).tolist() == s["normals"]
        assert rng.normals(key, 4, start=1000).tolist() == s["normals_from_1000"]


def test_scalar_and_vectorised_generators_agree_across_chunk_boundaries():
    key = bytes(range(32))
    n = 3 * (1 << 14) + 5
    vec = rng.centered_sums(key, n, start=123)
    for j in (0, 1, (1 << 14) - 1, 1 << 14, n - 1):
        lanes = 0
        for c in range(3 * (123 + j), 3 * (123 + j) + 3):
            w = rng.word_int(key, c)
            lanes += sum((w >> (16 * i)) & 0xFFFF for i in range(4))
        assert vec[j] == lanes - rng.LANE_SUM_MEAN


def test_normals_are_exact_multiples_and_roughly_standard():
    x = rng.normals(bytes(32), 200_000)
    assert np.all(x * 65536 == np.round(x * 65536))
    assert abs(float(x.mean())) < 0.01 and abs(float(x.std()) - 1.0) < 0.01
    assert float(np.abs(x).max()) <= 6.0


def test_unit_vectors_are_bit_exact():
    for u in load_vectors("counter-rng-poc.json")["unit_vectors"]:
        v = rng.unit_vector(bytes.fromhex(u["key"]), u["count"], u["start"])
        assert [x.tobytes().hex() for x in v.astype("<f8")] == u["f64_hex"]
        assert [x.tobytes().hex() for x in v.astype("<f4")] == u["f32_hex"]
        assert abs(float(np.dot(v, v)) - 1.0) < 1e-15


def test_uniform_below_follows_rejection_rule():
    for d in load_vectors("counter-rng-poc.json")["uniform_below"]:
        key, m, c = bytes.fromhex(d["key"]), int(d["m"]), 0
        got = []
        for _ in range(8):
            v, c = rng.uniform_below(key, m, c)
            got.append(str(v))
        assert got == d["values"] and c == d["next_counter"]
    # m just above 2^63: about half of all words are rejected, so the counter runs ahead.
    _, c = rng.uniform_below(bytes(range(32)), (1 << 63) + 1, 0)
    assert c >= 1
    with pytest.raises(ValueError):
        rng.uniform_below(bytes(32), 0, 0)


def test_key_must_be_32_bytes():
    with pytest.raises(ValueError):
        rng.normals(b"short", 4)


@pytest.mark.skipif(not os.path.exists(os.path.join(VECTORS, "counter-rng.json")),
                    reason="Specs/vectors/counter-rng.json (synthetic-model spec) not in this tree")
def test_agrees_with_synthetic_model_vectors():
    ref = load_vectors("counter-rng.json")
    for m in ref["mix64"]:
        assert rng.mix64_int(int(m["input"], 16)) == int(m["output"], 16)
    for s in ref["streams"]:
        key = bytes.fromhex(s["key"])
        assert rng.normals(key, len(s["normals"])).tolist() == s["normals"]
    for t in ref["synthetic_tensors"]:
        seed = bytes.fromhex(t["seed"])
        assert synthetic.tensor_key(seed, t["name"]).hex() == t["key"]
        assert synthetic.scale_exponent(t["inner_dimension"]) == t["scale_exponent"]
        vals = synthetic.tensor_values(seed, t["name"], [t["inner_dimension"], 8])
        assert vals.reshape(-1)[:8].tolist() == t["values"]
