"""Test setup: makes `pyworker` importable from Tools/, keeps BLAS single-threaded (faster and less
noisy on small shared machines) and offers shared fixtures."""
import json
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
TOOLS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

import pytest  # noqa: E402

ROOT = os.path.dirname(TOOLS)
VECTORS = os.path.join(ROOT, "Specs", "vectors")
SMOLLM2 = os.path.join(os.environ.get("CHORUS_MODEL_DIR", os.path.expanduser("~/.cache/chorus/models")),
                       "SmolLM2-135M-Instruct.Q4_1.gguf")


def load_vectors(name: str) -> dict:
    with open(os.path.join(VECTORS, name)) as f:
        return json.load(f)


@pytest.fixture(scope="session")
def tiny_model():
    from pyworker import synthetic
    from pyworker.model_numpy import NumpyLlama
    return NumpyLlama(synthetic.build(synthetic.TINY, bytes(range(32))))


@pytest.fixture(scope="session")
def smollm2():
    """The SmolLM2 GGUF loaded once (skips when Tools/fetch-model.sh has not been run)."""
    if not os.path.exists(SMOLLM2):
        pytest.skip(f"{SMOLLM2} not present (run Tools/fetch-model.sh)")
    from pyworker import gguf_model
    from pyworker.model_numpy import NumpyLlama
    g = gguf_model.load(SMOLLM2)
    return g, NumpyLlama(g.weights)
