import math

import numpy as np
import pytest

from pyworker import poc, synthetic
from pyworker.config import LlamaConfig, synthetic_digest
from pyworker.model_numpy import NumpyLlama
from conftest import load_vectors

PRESETS = {"tiny": synthetic.TINY, "devnet": synthetic.DEVNET}


@pytest.fixture(scope="module")
def cases():
    out = []
    for case in load_vectors("poc-synthetic.json")["cases"]:
        cfg = LlamaConfig(**case["config"])
        assert cfg == PRESETS[case["name"]]
        model = NumpyLlama(synthetic.build(cfg, bytes.fromhex(case["synthetic_seed"])))
        out.append((case, model))
    return out


def task_of(case):
    return poc.PoCTask(bytes.fromhex(case["epoch_seed"]), bytes.fromhex(case["participant"]), case["model_id"],
                       case["seq_len"])


def test_exact_checkpoints_match_vectors(cases):
    for case, model in cases:
        cfg = model.config
        seed = bytes.fromhex(case["synthetic_seed"])
        assert synthetic_digest(cfg, seed) == case["model_digest"]
        task = task_of(case)
        for layer in case["layers"]:
            assert poc.layer_key(task.seed, task.model_id, layer["layer"]).hex() == layer["key"]
        lv = poc.layer_vectors(task.seed, task.model_id, cfg.layer_count, cfg.hidden_size)
        for layer in case["layers"]:
            assert [v.tobytes().hex() for v in lv[layer["layer"]][:4]] == layer["v_first4_f32_hex"]
        for n in case["nonces"]:
            k = task.nonce_key(n["nonce"])
            assert k.hex() == n["nonce_key"]
            x = poc.input_embeddings(k, task.seq_len, cfg.hidden_size)
            assert x.reshape(-1)[:8].tolist() == n["inputs_first8"]
            assert x[-1][:4].tolist() == n["inputs_last_row_first4"]
            assert poc.pick_key(k).hex() == n["pick_key"] and poc.rotate_key(k).hex() == n["rotate_key"]
            assert poc.pick_indices(poc.pick_key(k), cfg.hidden_size) == n["picked_indices"]
        probe = case["projection_probe"]
        from pyworker import rng
        h = rng.normals(bytes([0x5A] * 32), cfg.hidden_size)
        assert poc.project(h, bytes.fromhex(probe["nonce_key"])).hex() == probe["vector"]


def test_vectors_reproduce_within_threshold_in_any_batching(cases):
    for case, model in cases:
        comp = poc.PoCComputer(model, task_of(case))
        want = {n["nonce"]: bytes.fromhex(n["vector"]) for n in case["nonces"]}
        got = dict(zip(range(8), comp.compute(list(range(8)))))
        got.update(zip([7, 3], comp.compute([7, 3])))  # another batch shape and order
        for n, v in want.items():
            assert poc.distance(v, got[n]) <= case["dist_threshold"] / 10
        # different nonces give unrelated vectors
        assert poc.distance(got[0], got[1]) > 0.5


def test_determinism_and_binding(tiny_model):
    t = poc.PoCTask(bytes(32), bytes([1]) * 32, "m", 16)
    a = poc.PoCComputer(tiny_model, t).compute([5, 6])
    assert a == poc.PoCComputer(tiny_model, t).compute([5, 6])
    for other in (poc.PoCTask(bytes([2]) * 32, t.participant, "m", 16), poc.PoCTask(t.seed, bytes(32), "m", 16),
                  poc.PoCTask(t.seed, t.participant, "m2", 16), poc.PoCTask(t.seed, t.participant, "m", 15)):
        b = poc.PoCComputer(tiny_model, other).compute([5])
        assert poc.distance(a[0], b[0]) > 0.3


def test_householder_vectors_are_unit_and_reflection_is_orthogonal():
    v = poc.layer_vectors(bytes(32), "m", 3, 64)
    assert np.allclose(np.linalg.norm(v.astype(np.float64), axis=1), 1.0, atol=1e-6)
    x = np.random.default_rng(1).standard_normal(64).astype(np.float32)
    y = x - 2 * np.dot(x, v[0]) * v[0]
    assert abs(np.linalg.norm(y) - np.linalg.norm(x)) < 1e-4


def test_projection_edge_cases():
    k = bytes(32)
    assert poc.project(np.full(64, np.nan, dtype=np.float32), k) is None
    assert poc.project(np.zeros(64, dtype=np.float32), k) is None
    v = poc.project(np.arange(1, 65, dtype=np.float32), k)
    z = poc.decode_vector(v)
    assert len(v) == 24 and abs(float(np.linalg.norm(z)) - 1.0) < 2e-3
    # scale invariance: the output depends on the direction of h only
    assert poc.project(np.arange(1, 65, dtype=np.float32) * 8, k) == v
    with pytest.raises(ValueError):
        poc.pick_indices(k, 11)


def test_picks_are_distinct_and_unbiased_enough():
    counts = np.zeros(20)
    for i in range(400):
        p = poc.pick_indices(bytes([i % 256, i // 256]) + bytes(30), 20)
        assert len(set(p)) == 12
        counts[p] += 1
    assert counts.min() > 0.5 * counts.mean()


def test_fp16_encoding_rounds_to_nearest_even():
    # 1 + 2^-11 is halfway between fp16 1.0 and 1 + 2^-10: ties to even → 1.0
    assert poc.encode_vector(np.array([1 + 2 ** -11] + [0.0] * 11))[:2] == bytes.fromhex("003c")
    assert poc.encode_vector(np.array([1 + 3 * 2 ** -11] + [0.0] * 11))[:2] == bytes.fromhex("023c")


def test_distance():
    a = poc.encode_vector(np.eye(12)[0])
    b = poc.encode_vector(np.eye(12)[1])
    assert poc.distance(a, a) == 0.0
    assert abs(poc.distance(a, b) - math.sqrt(2)) < 1e-12
    nan = np.frombuffer(a, dtype="<f2").copy()
    nan[3] = np.nan
    assert poc.distance(nan.tobytes(), a) == math.inf
    with pytest.raises(ValueError):
        poc.decode_vector(b"\x00" * 23)


def test_binomial_test_matches_vectors_and_exact_sums():
    ref = load_vectors("poc-stat-test.json")
    for c in ref["p_values"]:
        got = poc.binomial_p_value(c["mismatches"], c["n"], c["p_mismatch"])
        exact = sum(math.comb(c["n"], i) * c["p_mismatch"] ** i * (1 - c["p_mismatch"]) ** (c["n"] - i)
                    for i in range(c["mismatches"], c["n"] + 1))
        assert math.isclose(got, c["p_value"], rel_tol=1e-9)
        assert math.isclose(got, min(1.0, exact), rel_tol=1e-9, abs_tol=1e-300)
    for t in ref["fraud_thresholds"]:
        test = poc.StatTest(0.1, t["p_mismatch"], t["p_value_threshold"])
        k = t["min_mismatches_for_fraud"]
        assert test.evaluate([1.0] * k + [0.0] * (t["n"] - k))["fraud"]
        assert not test.evaluate([1.0] * (k - 1) + [0.0] * (t["n"] - k + 1))["fraud"]
    r = poc.StatTest(0.1, 0.1, 0.05).evaluate([0.05, float("inf"), 0.2, float("nan")])
    assert r["mismatches"] == 3


def test_schedule_slots_never_overlap_and_cover_densely():
    slots = [list(poc.schedule(w, 3, 5)) for w in range(3)]
    flat = sorted(n for s in slots for n in s)
    assert flat == list(range(15))
    assert list(poc.schedule((1 << 64) - 2, 1, None)) == [(1 << 64) - 2, (1 << 64) - 1]


def test_key_layouts():
    import hashlib
    import struct
    seed, p = bytes(range(32)), bytes(range(32, 64))
    want = hashlib.blake2b(b"chorus/poc/1/nonce\x00" + seed + p + struct.pack("<I", 3) + b"abc"
                           + struct.pack("<I", 8) + struct.pack("<Q", 9), digest_size=32).digest()
    assert poc.nonce_key(seed, p, "abc", 8, 9) == want
    want = hashlib.blake2b(b"chorus/poc/1/layer\x00" + seed + struct.pack("<I", 3) + b"abc" + struct.pack("<I", 2),
                           digest_size=32).digest()
    assert poc.layer_key(seed, "abc", 2) == want
    with pytest.raises(ValueError):
        poc.nonce_key(seed, p, "", 8, 0)
    with pytest.raises(ValueError):
        poc.nonce_key(seed[:31], p, "abc", 8, 0)
