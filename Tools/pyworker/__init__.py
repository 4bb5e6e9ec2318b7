"""Chorus reference worker: numpy (CPU oracle) and torch backends behind the worker protocol
(Specs/worker.md), the PoC kernel (Specs/poc-kernel.md) and the tools that produce its test vectors.
Run from Tools/: `python3 -m pyworker serve|selftest|vectors`."""
