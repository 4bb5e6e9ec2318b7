"""The worker's logic, independent of HTTP: resident models, PoC jobs, verification, generation,
scoring and tokenization (Specs/worker.md). `server.py` maps HTTP requests onto `Worker` methods.

Threads: HTTP requests run on their own threads; each PoC job has one thread. All forward passes
go through one `ComputeGate`, which lets interactive work (generate, score, verify) go before
background PoC batches, so a long PoC job never starves inference.
"""
from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import threading
import time
import traceback
from typing import Any, Iterator

from . import config as cfgmod

# Specs/worker.md §5: seconds a job's full backlog may wait for a pull before the job is abandoned.
ABANDON_AFTER_S = 120
from . import generation, poc, synthetic
from .config import LlamaConfig
from .errors import WorkerError

WORKER_NAME = "chorus-pyworker"
WORKER_VERSION = "0.1.0"
PROTOCOL_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 16 << 20
    max_verify_nonces: int = 4096
    max_batch_size: int = 4096
    max_jobs: int = 16
    max_backlog_artifacts: int = 16_384
    max_wait_ms: int = 30_000
    max_batches_per_pull: int = 1024
    max_tokens: int = 4096
    max_top_logprobs: int = 20
    max_concurrent_requests: int = 8
    max_text_bytes: int = 1 << 20
    max_seq_len: int = 4096

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


# -- request field helpers ---------------------------------------------------------------------

def _bad(field: str, message: str, code: str = "invalid_request") -> WorkerError:
    return WorkerError(400, code, message, field)


def get_obj(body: Any) -> dict:
    if not isinstance(body, dict):
        raise WorkerError(400, "invalid_request", "the request body must be a JSON object")
    return body


def get_str(body: dict, name: str, max_len: int = 256, default: str | None = None, required: bool = True) -> str:
    v = body.get(name, default)
    if v is None:
        if required:
            raise _bad(name, "is required")
        return ""
    if not isinstance(v, str) or not v or len(v.encode("utf-8")) > max_len:
        raise _bad(name, f"must be a non-empty string of at most {max_len} bytes")
    return v


def get_int(body: dict, name: str, lo: int, hi: int, default: int | None = None) -> int:
    v = body.get(name, default)
    if v is None:
        raise _bad(name, "is required")
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise _bad(name, f"must be an integer in [{lo}, {hi}]")
    return v


def get_num(body: dict, name: str, lo: float, hi: float, default: float) -> float:
    v = body.get(name, default)
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not lo <= float(v) <= hi:
        raise _bad(name, f"must be a number in [{lo}, {hi}]")
    return float(v)


def get_bool(body: dict, name: str, default: bool) -> bool:
    v = body.get(name, default)
    if not isinstance(v, bool):
        raise _bad(name, "must be true or false")
    return v


def get_hex32(body: dict, name: str) -> bytes:
    v = body.get(name)
    if not isinstance(v, str) or len(v) != 64:
        raise _bad(name, "must be 64 hex characters (32 bytes)")
    try:
        return bytes.fromhex(v)
    except ValueError:
        raise _bad(name, "must be 64 hex characters (32 bytes)")


def get_int_list(body: dict, name: str, max_len: int, lo: int, hi: int, code: str = "invalid_request",
                 allow_empty: bool = False) -> list[int]:
    v = body.get(name)
    if not isinstance(v, list):
        raise _bad(name, "must be an array of integers")
    if len(v) > max_len:
        raise _bad(name, f"has {len(v)} entries; at most {max_len} are allowed", "too_large")
    if not v and not allow_empty:
        raise _bad(name, "must not be empty")
    for i, x in enumerate(v):
        if not isinstance(x, int) or isinstance(x, bool) or not lo <= x <= hi:
            raise _bad(f"{name}[{i}]", f"must be an integer in [{lo}, {hi}]", code)
    return v


# -- backends ----------------------------------------------------------------------------------

class Backend:
    """Turns weights into a runner: numpy (CPU oracle) or torch (CUDA or CPU)."""

    def __init__(self, name: str = "numpy", device: str | None = None, dtype: str = "fp32"):
        self.kind = name
        self.dtype = dtype
        if name == "numpy":
            if dtype != "fp32":
                raise ValueError("the numpy backend runs in fp32 only")
            self.device = "cpu"
            self.name = "numpy"
            self.default_batch = 16
        elif name == "torch":
            try:
                from . import torch_backend
            except ImportError as e:
                raise RuntimeError(f"--backend torch needs PyTorch, which is not installed ({e})") from e
            self._tb = torch_backend
            self._device = torch_backend.pick_device(device)
            self.device = str(self._device)
            self.name = f"torch-{self._device.type}"
            self.default_batch = 256 if self._device.type == "cuda" else 16
        else:
            raise ValueError(f"unknown backend '{name}' (numpy or torch)")

    def from_weights(self, weights):
        if self.kind == "numpy":
            from .model_numpy import NumpyLlama
            return NumpyLlama(weights)
        return self._tb.TorchLlama(weights, self._device, self.dtype)

    def synthetic(self, config: LlamaConfig, seed: bytes):
        if self.kind == "numpy":
            return self.from_weights(synthetic.build(config, seed))
        return self._tb.TorchLlama(self._tb.build_synthetic(config, seed, self._device), self._device, self.dtype)

    def to_json(self) -> dict:
        return {"name": self.name, "device": self.device, "dtype": self.dtype}


# -- resident models ----------------------------------------------------------------------------

@dataclasses.dataclass
class ResidentModel:
    id: str
    digest: str
    source: dict
    config: LlamaConfig
    runner: Any
    tokenizer: Any = None
    chat: Any = None
    eos_id: int | None = None
    loaded_at: float = 0.0

    def to_json(self) -> dict:
        return {"id": self.id, "digest": self.digest, "source": self.source, "config": self.config.to_json(),
                "parameters": self.config.parameter_count, "tokenizer": self.tokenizer is not None,
                "chat_template": self.chat is not None, "eos_id": self.eos_id, "loaded_at": self.loaded_at}


SYNTHETIC_PRESETS = {"tiny": synthetic.TINY, "devnet": synthetic.DEVNET}


# -- the compute gate ---------------------------------------------------------------------------

class ComputeGate:
    """One forward pass at a time; interactive passes go before background (PoC) batches."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._interactive_waiting = 0

    @contextlib.contextmanager
    def interactive(self) -> Iterator[None]:
        with self._cond:
            self._interactive_waiting += 1
            while self._busy:
                self._cond.wait()
            self._interactive_waiting -= 1
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    @contextlib.contextmanager
    def background(self) -> Iterator[None]:
        with self._cond:
            while self._busy or self._interactive_waiting:
                self._cond.wait()
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()


# -- PoC jobs -----------------------------------------------------------------------------------

class PoCJob:
    def __init__(self, worker: "Worker", job_id: str, model: ResidentModel, task: poc.PoCTask,
                 offset: int, stride: int, count: int | None, batch_size: int):
        self.worker = worker
        self.id = job_id
        self.model = model
        self.task = task
        self.offset, self.stride, self.count = offset, stride, count
        self.batch_size = batch_size
        self.state = "running"
        self.error: str | None = None
        self.created = time.time()
        self.finished: float | None = None
        self.nonces_done = 0
        self.artifacts_total = 0
        self.skipped_total = 0
        self.batches: list[dict] = []  # unacknowledged, in seq order
        self.backlog = 0  # artifacts in self.batches
        self.last_pull = time.monotonic()  # a full backlog nobody pulls for ABANDON_AFTER_S is dropped
        self.next_seq = 1
        self.compute_seconds = 0.0
        self.cond = threading.Condition()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"poc-{job_id}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            computer = poc.PoCComputer(self.model.runner, self.task)
            nonces = poc.schedule(self.offset, self.stride, self.count)
            while not self.stop_event.is_set():
                batch = list(itertools.islice(nonces, self.batch_size))
                if not batch:
                    break
                abandoned = False
                with self.cond:
                    while self.backlog >= self.worker.limits.max_backlog_artifacts and not self.stop_event.is_set():
                        if time.monotonic() - self.last_pull >= ABANDON_AFTER_S:
                            # Specs/worker.md §5: a full backlog nobody pulls is dropped and the job stops.
                            self.batches, self.backlog = [], 0
                            self.error = f"abandoned: the backlog was full and nobody pulled artifacts for {ABANDON_AFTER_S} s"
                            abandoned = True
                            self.stop_event.set()
                            break
                        self.cond.wait(0.5)
                if self.stop_event.is_set() or abandoned:
                    break
                with self.worker.gate.background():
                    t0 = time.perf_counter()
                    vectors = computer.compute(batch)
                    dt = time.perf_counter() - t0
                arts = [{"nonce": n, "vector": v.hex()} for n, v in zip(batch, vectors) if v is not None]
                skipped = [n for n, v in zip(batch, vectors) if v is None]
                with self.cond:
                    self.batches.append({"seq": self.next_seq, "artifacts": arts, "skipped": skipped})
                    self.next_seq += 1
                    self.backlog += len(arts)
                    self.nonces_done += len(batch)
                    self.artifacts_total += len(arts)
                    self.skipped_total += len(skipped)
                    self.compute_seconds += dt
                    self.cond.notify_all()
            with self.cond:
                self.state = "stopped" if self.stop_event.is_set() else "done"
        except Exception as e:  # noqa: BLE001 - a job failure is reported through the API, not raised
            traceback.print_exc()
            with self.cond:
                self.state = "failed"
                self.error = f"{type(e).__name__}: {e}"
        finally:
            with self.cond:
                self.finished = time.time()
                self.cond.notify_all()

    def stop(self) -> None:
        self.stop_event.set()
        with self.cond:
            self.cond.notify_all()

    def status(self) -> dict:
        with self.cond:
            rate = self.nonces_done / self.compute_seconds if self.compute_seconds > 0 else 0.0
            return {"id": self.id, "state": self.state, "error": self.error, "model": self.model.id,
                    "spec": poc.SPEC, "seed": self.task.seed.hex(), "participant": self.task.participant.hex(),
                    "params": {"seq_len": self.task.seq_len, "k_dim": poc.K_DIM},
                    "nonce_offset": self.offset, "nonce_stride": self.stride, "nonce_count": self.count,
                    "batch_size": self.batch_size, "nonces_done": self.nonces_done,
                    "artifacts_total": self.artifacts_total, "skipped_total": self.skipped_total,
                    "backlog": self.backlog, "nonces_per_second": rate, "created": self.created,
                    "finished": self.finished, "last_seq": self.next_seq - 1}

    def pull(self, after: int, wait_ms: int, max_batches: int) -> dict:
        """Acknowledges batches up to `after` (they are dropped) and returns later ones, waiting up
        to wait_ms for one to appear while the job runs."""
        deadline = time.monotonic() + wait_ms / 1000.0
        with self.cond:
            self.last_pull = time.monotonic()
            dropped = [b for b in self.batches if b["seq"] <= after]
            if dropped:
                self.batches = [b for b in self.batches if b["seq"] > after]
                self.backlog -= sum(len(b["artifacts"]) for b in dropped)
                self.cond.notify_all()
            while not self.batches and self.state == "running":
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            out = self.batches[:max_batches]
        cursor = out[-1]["seq"] if out else after
        return {"job": self.status(), "batches": out, "cursor": cursor}


# -- the worker ----------------------------------------------------------------------------------

class Worker:
    def __init__(self, backend: Backend | None = None, limits: Limits | None = None):
        self.backend = backend or Backend()
        self.limits = limits or Limits()
        self.gate = ComputeGate()
        self.models: dict[str, ResidentModel] = {}
        self.jobs: dict[str, PoCJob] = {}
        self._lock = threading.Lock()
        self._activity = {"loading": 0, "verifying": 0, "serving": 0, "stopping": 0}
        self._state = "idle"
        self._since = time.time()
        self._cancels: set[threading.Event] = set()
        self._job_counter = itertools.count(1)
        self._requests = threading.BoundedSemaphore(self.limits.max_concurrent_requests)

    # state -------------------------------------------------------------------------------------

    def _compute_state(self) -> str:
        a = self._activity
        running_jobs = any(j.state == "running" for j in self.jobs.values())
        for name, on in (("stopping", a["stopping"]), ("loading", a["loading"]), ("poc_verifying", a["verifying"]),
                         ("serving", a["serving"]), ("poc_generating", running_jobs)):
            if on:
                return name
        return "idle"

    @contextlib.contextmanager
    def _doing(self, what: str) -> Iterator[None]:
        with self._lock:
            self._activity[what] += 1
        try:
            yield
        finally:
            with self._lock:
                self._activity[what] -= 1

    def state(self) -> dict:
        with self._lock:
            s = self._compute_state()
            if s != self._state:
                self._state, self._since = s, time.time()
            return {"state": self._state, "since": self._since,
                    "activities": {"loading": self._activity["loading"], "verifying": self._activity["verifying"],
                                   "serving": self._activity["serving"],
                                   "poc_jobs_running": sum(j.state == "running" for j in self.jobs.values())},
                    "jobs": [{"id": j.id, "state": j.state, "model": j.model.id, "nonces_done": j.nonces_done}
                             for j in self.jobs.values()],
                    "models": sorted(self.models)}

    def info(self) -> dict:
        with self._lock:
            models = [m.to_json() for m in self.models.values()]
        return {"protocol": PROTOCOL_VERSION, "worker": {"name": WORKER_NAME, "version": WORKER_VERSION},
                "backend": self.backend.to_json(),
                "poc": {"specs": [poc.SPEC], "k_dim": poc.K_DIM, "default_batch_size": self.backend.default_batch},
                "limits": self.limits.to_json(), "models": models}

    def stop(self) -> dict:
        with self._doing("stopping"):
            with self._lock:
                jobs = [j for j in self.jobs.values() if j.state == "running"]
                cancels = list(self._cancels)
            for j in jobs:
                j.stop()
            for c in cancels:
                c.set()
            for j in jobs:
                j.thread.join(timeout=30)
        return {"stopped_jobs": [j.id for j in jobs], "cancelled_requests": len(cancels)}

    # models ------------------------------------------------------------------------------------

    def model(self, model_id: Any, field: str = "model") -> ResidentModel:
        if not isinstance(model_id, str):
            raise _bad(field, "must be a model id string")
        with self._lock:
            m = self.models.get(model_id)
        if m is None:
            raise WorkerError(404, "unknown_model", f"no resident model '{model_id}'", field)
        return m

    def load_model(self, body: Any) -> dict:
        body = get_obj(body)
        model_id = get_str(body, "id", 255)
        expected = body.get("digest")
        if expected is not None and (not isinstance(expected, str) or ":" not in expected):
            raise _bad("digest", "must be a string 'sha256:<hex>' or 'blake2b:<hex>'")
        has_path, has_syn = "path" in body, "synthetic" in body
        if has_path == has_syn:
            raise _bad("path", "give exactly one of 'path' and 'synthetic'")
        with self._lock:
            if model_id in self.models:
                raise WorkerError(409, "model_exists", f"a model with id '{model_id}' is already resident; unload it first", "id")
        with self._doing("loading"):
            if has_path:
                path = get_str(body, "path", 4096)
                if not os.path.isfile(path):
                    raise WorkerError(404, "not_found", f"no such model file: {path}", "path")
                digest = cfgmod.file_digest(path)
                if expected is not None and expected.lower() != digest:
                    raise WorkerError(409, "digest_mismatch", f"file digest is {digest}, expected {expected}", "digest")
                from . import gguf_model
                from .tokenizer import BPETokenizer, ChatTemplate
                g = gguf_model.load(path)
                runner = self.backend.from_weights(g.weights)
                tok = BPETokenizer(g.tokenizer) if g.tokenizer is not None else None
                chat = None
                if g.tokenizer is not None and g.tokenizer.chat_template:
                    try:
                        chat = ChatTemplate(g.tokenizer.chat_template)
                    except WorkerError:
                        chat = None
                model = ResidentModel(model_id, digest, {"kind": "file", "path": path}, g.weights.config, runner, tok,
                                      chat, tok.eos_id if tok else None)
            else:
                syn = get_obj(body["synthetic"])
                if "preset" in syn and "config" in syn:
                    raise _bad("synthetic", "give one of 'preset' and 'config'")
                if "preset" in syn:
                    name = syn["preset"]
                    if name not in SYNTHETIC_PRESETS:
                        raise _bad("synthetic.preset", f"unknown preset; known: {', '.join(sorted(SYNTHETIC_PRESETS))}")
                    config = SYNTHETIC_PRESETS[name]
                else:
                    config = LlamaConfig.from_json(syn.get("config"), "synthetic.config")
                seed = get_hex32(syn, "seed") if "seed" in syn else None
                if seed is None:
                    raise _bad("synthetic.seed", "is required (64 hex characters)")
                digest = cfgmod.synthetic_digest(config, seed)
                if expected is not None and expected.lower() != digest:
                    raise WorkerError(409, "digest_mismatch", f"synthetic model digest is {digest}, expected {expected}", "digest")
                runner = self.backend.synthetic(config, seed)
                tok = None
                if config.vocab_size == 256:
                    from .tokenizer import byte_level_tokenizer
                    tok = byte_level_tokenizer()
                model = ResidentModel(model_id, digest, {"kind": "synthetic", "config": config.to_json(), "seed": seed.hex()},
                                      config, runner, tok, None, None)
            model.loaded_at = time.time()
            with self._lock:
                if model_id in self.models:
                    raise WorkerError(409, "model_exists", f"a model with id '{model_id}' is already resident", "id")
                self.models[model_id] = model
        return model.to_json()

    def unload_model(self, model_id: str) -> dict:
        with self._lock:
            if model_id not in self.models:
                raise WorkerError(404, "unknown_model", f"no resident model '{model_id}'", "id")
            busy = [j.id for j in self.jobs.values() if j.model.id == model_id and j.state == "running"]
            if busy:
                raise WorkerError(409, "model_busy", f"PoC job(s) {', '.join(busy)} use this model; delete them first", "id")
            del self.models[model_id]
        return {"unloaded": model_id}

    # PoC -----------------------------------------------------------------------------------------

    def _poc_task(self, body: dict) -> tuple[ResidentModel, poc.PoCTask]:
        spec = body.get("spec", poc.SPEC)
        if spec != poc.SPEC:
            raise WorkerError(422, "unsupported", f"PoC spec '{spec}' is not supported (only {poc.SPEC})", "spec")
        model = self.model(body.get("model"))
        seed = get_hex32(body, "seed")
        participant = get_hex32(body, "participant")
        if not isinstance(body.get("params"), dict):
            raise _bad("params", "is required: {\"seq_len\": n}")
        params = body["params"]
        try:
            seq_len = get_int(params, "seq_len", 1, min(self.limits.max_seq_len, model.config.context_length))
            k_dim = get_int(params, "k_dim", 1, 1 << 16, poc.K_DIM)
        except WorkerError as e:
            e.field = f"params.{e.field}"
            raise
        if k_dim != poc.K_DIM:
            raise WorkerError(422, "unsupported", f"k_dim must be {poc.K_DIM} in {poc.SPEC}", "params.k_dim")
        if model.config.hidden_size < poc.K_DIM:
            raise WorkerError(422, "unsupported", "the model's hidden size is below k_dim", "model")
        return model, poc.PoCTask(seed, participant, model.id, seq_len)

    def create_job(self, body: Any) -> dict:
        body = get_obj(body)
        model, task = self._poc_task(body)
        u64 = (1 << 64) - 1
        offset = get_int(body, "nonce_offset", 0, u64, 0)
        stride = get_int(body, "nonce_stride", 1, u64, 1)
        count = body.get("nonce_count")
        if count is not None:
            count = get_int(body, "nonce_count", 1, u64)
        batch = get_int(body, "batch_size", 1, self.limits.max_batch_size, self.backend.default_batch)
        with self._lock:
            if len(self.jobs) >= self.limits.max_jobs:
                raise WorkerError(429, "too_many_jobs", f"at most {self.limits.max_jobs} jobs may exist; delete finished ones")
            job_id = f"job-{next(self._job_counter)}-{os.urandom(4).hex()}"
            job = PoCJob(self, job_id, model, task, offset, stride, count, batch)
            self.jobs[job_id] = job
        job.start()
        return job.status()

    def job(self, job_id: str) -> PoCJob:
        with self._lock:
            j = self.jobs.get(job_id)
        if j is None:
            raise WorkerError(404, "unknown_job", f"no PoC job '{job_id}'", "id")
        return j

    def list_jobs(self) -> dict:
        with self._lock:
            jobs = list(self.jobs.values())
        return {"jobs": [j.status() for j in jobs]}

    def pull(self, job_id: str, query: dict[str, str]) -> dict:
        job = self.job(job_id)

        def qint(name: str, lo: int, hi: int, default: int) -> int:
            raw = query.get(name)
            if raw is None:
                return default
            try:
                v = int(raw)
            except ValueError:
                raise _bad(name, "must be an integer")
            if not lo <= v <= hi:
                raise _bad(name, f"must be in [{lo}, {hi}]")
            return v

        after = qint("after", 0, 1 << 62, 0)
        wait_ms = qint("wait_ms", 0, self.limits.max_wait_ms, 0)
        max_batches = qint("max_batches", 1, self.limits.max_batches_per_pull, self.limits.max_batches_per_pull)
        return job.pull(after, wait_ms, max_batches)

    def delete_job(self, job_id: str) -> dict:
        job = self.job(job_id)
        job.stop()
        job.thread.join(timeout=30)
        with self._lock:
            self.jobs.pop(job_id, None)
        st = job.status()
        return {"deleted": job_id, "state": st["state"], "nonces_done": st["nonces_done"]}

    def verify(self, body: Any) -> dict:
        body = get_obj(body)
        model, task = self._poc_task(body)
        nonces = get_int_list(body, "nonces", self.limits.max_verify_nonces, 0, (1 << 64) - 1)
        claimed = body.get("vectors")
        if claimed is not None:
            if not isinstance(claimed, list) or len(claimed) != len(nonces):
                raise _bad("vectors", "must be an array as long as 'nonces'")
            for i, v in enumerate(claimed):
                if v is not None and (not isinstance(v, str) or len(v) != 2 * poc.VECTOR_BYTES or not _is_hex(v)):
                    raise _bad(f"vectors[{i}]", f"must be {2 * poc.VECTOR_BYTES} hex characters or null")
        with self._doing("verifying"):
            computer = poc.PoCComputer(model.runner, task)
            vectors: list[bytes | None] = []
            bs = max(1, self.backend.default_batch)
            for lo in range(0, len(nonces), bs):
                with self.gate.interactive():
                    vectors.extend(computer.compute(nonces[lo:lo + bs]))
        out: dict = {"spec": poc.SPEC, "model": model.id,
                     "artifacts": [{"nonce": n, "vector": v.hex() if v is not None else None} for n, v in zip(nonces, vectors)]}
        if claimed is not None:
            dists = []
            for c, v in zip(claimed, vectors):
                if c is None or v is None:
                    dists.append(None)
                else:
                    d = poc.distance(bytes.fromhex(c), v)
                    dists.append(d if d != float("inf") else None)
            out["distances"] = dists
        return out

    # inference ----------------------------------------------------------------------------------

    def _tokens(self, body: dict, name: str, model: ResidentModel, allow_empty: bool = False) -> list[int]:
        return get_int_list(body, name, model.config.context_length, 0, model.config.vocab_size - 1,
                            code="invalid_token", allow_empty=allow_empty)

    def _top(self, body: dict) -> int:
        return get_int(body, "top_logprobs", 0, self.limits.max_top_logprobs, 0)

    @contextlib.contextmanager
    def _request_slot(self) -> Iterator[None]:
        if not self._requests.acquire(blocking=False):
            raise WorkerError(429, "busy", f"{self.limits.max_concurrent_requests} inference requests are already running; retry later")
        try:
            yield
        finally:
            self._requests.release()

    def prepare_generate(self, body: Any) -> tuple[bool, "GenerationStream"]:
        """Validates a generate request; returns (stream?, the output lines). The caller must
        `close()` the stream (it holds one of the request slots)."""
        body = get_obj(body)
        model = self.model(body.get("model"))
        prompt = self._tokens(body, "prompt_tokens", model)
        max_tokens = get_int(body, "max_tokens", 1, self.limits.max_tokens, 16)
        if len(prompt) + max_tokens > model.config.context_length:
            raise WorkerError(400, "context_overflow",
                              f"prompt ({len(prompt)}) + max_tokens ({max_tokens}) exceeds the context length "
                              f"{model.config.context_length}", "prompt_tokens")
        s = body.get("sampling", {})
        s = get_obj(s) if s is not None else {}
        seed = s.get("seed")
        if seed is not None:
            seed = get_int(s, "seed", 0, (1 << 64) - 1)
        tape_seed = None
        if s.get("tape_seed") is not None:
            if seed is not None:
                raise _bad("sampling.tape_seed", "give at most one of 'seed' and 'tape_seed'")
            hex_seed = s.get("tape_seed")
            if not isinstance(hex_seed, str) or hex_seed != hex_seed.lower():
                raise _bad("sampling.tape_seed", "must be 64 lower-case hex characters (32 bytes)")
            try:
                tape_seed = get_hex32(s, "tape_seed")
            except WorkerError:
                raise _bad("sampling.tape_seed", "must be 64 lower-case hex characters (32 bytes)")
        sampling = generation.Sampling(temperature=get_num(s, "temperature", 0.0, 100.0, 0.0),
                                       top_k=get_int(s, "top_k", 0, model.config.vocab_size, 0),
                                       top_p=get_num(s, "top_p", 1e-9, 1.0, 1.0), seed=seed, tape_seed=tape_seed)
        top = self._top(body)
        if "stop_tokens" in body:
            stop = set(get_int_list(body, "stop_tokens", 64, 0, model.config.vocab_size - 1, code="invalid_token",
                                    allow_empty=True))
        else:
            stop = {model.eos_id} if model.eos_id is not None else set()
        stream = get_bool(body, "stream", True)
        if not self._requests.acquire(blocking=False):
            raise WorkerError(429, "busy", f"{self.limits.max_concurrent_requests} inference requests are already running; retry later")
        cancel = threading.Event()
        with self._lock:
            self._cancels.add(cancel)

        def release() -> None:
            with self._lock:
                self._cancels.discard(cancel)
            self._requests.release()

        def lines() -> Iterator[dict]:
            with self._doing("serving"):
                n = 0
                for step in generation.generate(model.runner, prompt, max_tokens, sampling, top, stop, cancel,
                                                 self.gate.interactive):
                    if "id" in step:
                        yield {"index": n, **step}
                        n += 1
                    else:
                        yield {"finish_reason": step["finish_reason"], "seed": step["seed"],
                               "usage": {"prompt_tokens": len(prompt), "completion_tokens": n}}

        return stream, GenerationStream(lines(), release, cancel)

    def score(self, body: Any) -> dict:
        body = get_obj(body)
        model = self.model(body.get("model"))
        prompt = self._tokens(body, "prompt_tokens", model)
        completion = self._tokens(body, "completion_tokens", model)
        if len(prompt) + len(completion) > model.config.context_length:
            raise WorkerError(400, "context_overflow",
                              f"prompt ({len(prompt)}) + completion ({len(completion)}) exceeds the context length "
                              f"{model.config.context_length}", "completion_tokens")
        top = self._top(body)
        with self._request_slot(), self._doing("serving"):
            tokens = generation.score(model.runner, prompt, completion, top, self.gate.interactive)
        return {"model": model.id, "tokens": tokens,
                "usage": {"prompt_tokens": len(prompt), "completion_tokens": len(completion)}}

    def _tokenizer(self, model: ResidentModel):
        if model.tokenizer is None:
            raise WorkerError(422, "unsupported", f"model '{model.id}' has no tokenizer", "model")
        return model.tokenizer

    def tokenize(self, body: Any) -> dict:
        body = get_obj(body)
        model = self.model(body.get("model"))
        tok = self._tokenizer(model)
        if ("text" in body) == ("messages" in body):
            raise _bad("text", "give exactly one of 'text' and 'messages'")
        out: dict = {"model": model.id}
        if "messages" in body:
            if model.chat is None:
                raise WorkerError(422, "unsupported", f"model '{model.id}' has no usable chat template", "messages")
            msgs = body["messages"]
            if not isinstance(msgs, list) or not msgs:
                raise _bad("messages", "must be a non-empty array of {role, content}")
            for i, m in enumerate(msgs):
                if not (isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)):
                    raise _bad(f"messages[{i}]", "must be {\"role\": string, \"content\": string}")
            text = model.chat.render(msgs, get_bool(body, "add_generation_prompt", True))
            out["text"] = text
            parse_special = True
        else:
            text = body["text"]
            if not isinstance(text, str):
                raise _bad("text", "must be a string")
            parse_special = get_bool(body, "parse_special", True)
        if len(text.encode("utf-8")) > self.limits.max_text_bytes:
            raise WorkerError(413, "too_large", f"text exceeds {self.limits.max_text_bytes} bytes", "text")
        out["tokens"] = tok.encode(text, parse_special)
        return out

    def detokenize(self, body: Any) -> dict:
        body = get_obj(body)
        model = self.model(body.get("model"))
        tok = self._tokenizer(model)
        ids = get_int_list(body, "tokens", 1 << 16, 0, tok.vocab_size - 1, code="invalid_token", allow_empty=True)
        return {"model": model.id, "text": tok.decode(ids, get_bool(body, "skip_special", False))}


class GenerationStream:
    """The lines of one generate request; `close()` (idempotent) cancels it and frees its slot."""

    def __init__(self, lines: Iterator[dict], release, cancel: threading.Event):
        self._lines = lines
        self._release = release
        self._cancel = cancel
        self._closed = False

    def __iter__(self) -> "GenerationStream":
        return self

    def __next__(self) -> dict:
        return next(self._lines)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._cancel.set()
        self._lines.close()
        self._release()


def _is_hex(s: str) -> bool:
    try:
        bytes.fromhex(s)
        return True
    except ValueError:
        return False
