"""The torch backend against the numpy oracle (skipped when torch is not installed)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pyworker import poc, rng, synthetic  # noqa: E402
from pyworker import torch_backend as tb  # noqa: E402
from pyworker.model_numpy import NumpyLlama  # noqa: E402
from conftest import load_vectors  # noqa: E402

CPU = torch.device("cpu")


def test_int64_generator_is_bit_exact():
    key = bytes(range(32))
    c = torch.arange(0, 3000, dtype=torch.int64)
    got = [x & rng.MASK64 for x in tb.words(key, c).tolist()]
    want = rng.words(key, np.arange(0, 3000, dtype=np.uint64)).tolist()
    assert got == want
    assert tb.centered_sums(key, 1000, 77, CPU).tolist() == rng.centered_sums(key, 1000, 77).tolist()


def test_synthetic_weights_identical():
    w = tb.build_synthetic(synthetic.TINY, bytes(range(32)), CPU)
    ref = synthetic.build(synthetic.TINY, bytes(range(32)))
    assert np.array_equal(w.embed.numpy(), ref.embed)
    assert np.array_equal(w.layers[1].wq.numpy(), ref.layers[1].wq)


def test_poc_and_logits_match_numpy():
    case = load_vectors("poc-synthetic.json")["cases"][0]
    seed = bytes.fromhex(case["synthetic_seed"])
    tm = tb.TorchLlama(tb.build_synthetic(synthetic.TINY, seed, CPU), CPU, "fp32")
    nm = NumpyLlama(synthetic.build(synthetic.TINY, seed))
    task = poc.PoCTask(bytes.fromhex(case["epoch_seed"]), bytes.fromhex(case["participant"]), case["model_id"],
                       case["seq_len"])
    got = poc.PoCComputer(tm, task).compute(list(range(8)))
    for n, v in zip(case["nonces"], got):
        assert poc.distance(bytes.fromhex(n["vector"]), v) <= 1e-3
    ids = np.array([[5, 9, 200, 3]])
    assert np.max(np.abs(tm.token_logits(ids, None, slice(0, 4)) - nm.token_logits(ids, None, slice(0, 4)))) < 1e-4
    c1, c2 = tm.new_cache(1, 8), nm.new_cache(1, 8)
    tm.token_logits(ids, c1)
    nm.token_logits(ids, c2)
    a = tm.token_logits(np.array([[17]]), c1)
    b = nm.token_logits(np.array([[17]]), c2)
    assert np.max(np.abs(a - b)) < 1e-4


def test_bf16_stays_within_threshold():
    case = load_vectors("poc-synthetic.json")["cases"][0]
    seed = bytes.fromhex(case["synthetic_seed"])
    tm = tb.TorchLlama(tb.build_synthetic(synthetic.TINY, seed, CPU), CPU, "bf16")
    task = poc.PoCTask(bytes.fromhex(case["epoch_seed"]), bytes.fromhex(case["participant"]), case["model_id"],
                       case["seq_len"])
    got = poc.PoCComputer(tm, task).compute(list(range(8)))
    assert max(poc.distance(bytes.fromhex(n["vector"]), v) for n, v in zip(case["nonces"], got)) <= case["dist_threshold"]


def test_selftest_passes_on_cpu():
    from pyworker import selftest
    assert selftest.main(["--no-bench"]) == 0
