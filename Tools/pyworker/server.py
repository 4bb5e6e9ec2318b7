"""HTTP/1.1 + JSON server for the Chorus worker protocol (Specs/worker.md), standard library only.

    cd Tools && python3 -m pyworker.server --listen 127.0.0.1:8090 \\
        --model HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1=~/.cache/chorus/models/SmolLM2-135M-Instruct.Q4_1.gguf \\
        --synthetic chorus/synthetic-devnet=devnet:000102…1f [--backend torch] [--token SECRET]

Prints `READY <url>` on stdout once it accepts connections (port 0 picks a free port).
"""
from __future__ import annotations

import argparse
import hmac
import json
import os
import re
import socket
import socketserver
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import WorkerError
from .worker import Backend, Limits, Worker

REQUEST_TIMEOUT_S = 60


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chorus-pyworker"
    timeout = REQUEST_TIMEOUT_S  # socket read timeout: a stalled client cannot hold a thread forever

    # set by make_server
    worker: Worker
    token: str | None
    verbose: bool

    def address_string(self) -> str:
        return self.client_address[0] if isinstance(self.client_address, tuple) and self.client_address else "unix"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        if self.verbose:
            sys.stderr.write("pyworker: %s - %s\n" % (self.address_string(), format % args))

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    # -- plumbing -------------------------------------------------------------------------------

    def _send_json(self, status: int, obj: Any, extra_headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, err: WorkerError, close: bool = False) -> None:
        headers = {"Connection": "close"} if close else None
        if close:
            self.close_connection = True
        self._send_json(err.status, err.to_json(), headers)

    def _read_body(self) -> Any:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise WorkerError(411, "length_required", "send the body with Content-Length (chunked bodies are not accepted)")
        raw_len = self.headers.get("Content-Length")
        if raw_len is None:
            return None  # no body: endpoints that need one answer 400
        try:
            n = int(raw_len)
        except ValueError:
            raise WorkerError(400, "invalid_request", "Content-Length is not a number")
        if n < 0:
            raise WorkerError(400, "invalid_request", "Content-Length is negative")
        if n > self.worker.limits.max_body_bytes:
            self.close_connection = True
            raise WorkerError(413, "too_large", f"request body of {n} bytes exceeds {self.worker.limits.max_body_bytes}")
        if n == 0:
            return None
        data = self.rfile.read(n)
        if len(data) != n:
            self.close_connection = True
            raise WorkerError(400, "invalid_request", "request body shorter than Content-Length")
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise WorkerError(400, "invalid_json", f"the body is not valid JSON: {e}")

    def _authorized(self) -> bool:
        if not self.token:
            return True
        got = self.headers.get("Authorization", "")
        return hmac.compare_digest(got.encode(), f"Bearer {self.token}".encode())

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        try:
            if not self._authorized():
                raise WorkerError(401, "unauthorized", "missing or wrong bearer token")
            allowed = []
            for m, pattern, fn in ROUTES:
                match = pattern.fullmatch(url.path)
                if not match:
                    continue
                if m != method:
                    allowed.append(m)
                    continue
                query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
                body = self._read_body() if method in ("POST", "PUT") else None
                fn(self, {k: unquote(v) for k, v in match.groupdict().items()}, query, body)
                return
            if allowed:
                if method in ("POST", "PUT"):
                    self.close_connection = True  # the unread body would corrupt the next request
                err = WorkerError(405, "method_not_allowed", f"{method} is not allowed on {url.path}")
                self._send_json(405, err.to_json(), {"Allow": ", ".join(sorted(set(allowed)))})
                return
            if method in ("POST", "PUT"):
                self.close_connection = True
            raise WorkerError(404, "not_found", f"no endpoint {method} {url.path}")
        except WorkerError as e:
            self._send_error(e)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True
        except Exception as e:  # noqa: BLE001 - the server must answer, not die
            traceback.print_exc()
            self._send_error(WorkerError(500, "internal", f"{type(e).__name__}: {e}"), close=True)

    # -- endpoints ------------------------------------------------------------------------------

    def info(self, params: dict, query: dict, body: Any) -> None:
        self._send_json(200, self.worker.info())

    def state(self, params: dict, query: dict, body: Any) -> None:
        self._send_json(200, self.worker.state())

    def stop(self, params: dict, query: dict, body: Any) -> None:
        self._send_json(200, self.worker.stop())

    def models(self, params: dict, query: dict, body: Any) -> None:
        self._send_json(200, {"models": self.worker.info()["models"]})

    def load_model(self, params: dict, query: dict, body: Any) -> None:
        if isinstance(body, dict) and isinstance(body.get("path"), str) and "synthetic" not in body:
            body = dict(body, path=allowed_model_file(getattr(self.worker, "client_model_dir", None), body["path"]))
        self._send_json(200, self.worker.load_model(body))

    def unload_model(self, params: dict, query: dict, body: Any) -> None:
        self._send_json(200, self.worker.unload_model(params["id"]))

    def create_job(self, params: dict, query: dict, body: Any) -> None:
        job = self.worker.create_job(body)
        self._send_json(201, job, {"Location": f"/v1/poc/jobs/{job['id']}"})

    def list_jobs(self, params: dict, query: dict, body: Any) -> None:
        self._send_json(200, self.worker.list_jobs())

    def job_status(self, params: dict, query: dict, body: Any) -> None:
        self._send_json(200, self.worker.job(params["id"]).status())

    def artifacts(self, params: dict, query: dict, body: Any) -> None:
        self._send_json(200, self.worker.pull(params["id"], query))

    def delete_job(self, params: dict, query: dict, body: Any) -> None:
        self._send_json(200, self.worker.delete_job(params["id"]))

    def verify(self, params: dict, query: dict, body: Any) -> None:
        self._send_json(200, self.worker.verify(body))

    def generate(self, params: dict, query: dict, body: Any) -> None:
        stream, lines = self.worker.prepare_generate(body)
        try:
            if not stream:
                tokens, final = [], {}
                for line in lines:
                    if "id" in line:
                        tokens.append(line)
                    else:
                        final = line
                self._send_json(200, {"tokens": tokens, **final})
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            try:
                for line in lines:
                    self._chunk(json.dumps(line, separators=(",", ":")).encode() + b"\n")
            except WorkerError as e:
                self._chunk(json.dumps(e.to_json(), separators=(",", ":")).encode() + b"\n")
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                self.close_connection = True  # the client went away: closing `lines` cancels the generation
                return
            except Exception as e:  # noqa: BLE001 - headers are out; report in-band, then end the stream
                traceback.print_exc()
                err = WorkerError(500, "internal", f"{type(e).__name__}: {e}")
                self._chunk(json.dumps(err.to_json(), separators=(",", ":")).encode() + b"\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        finally:
            lines.close()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def score(self, params: dict, query: dict, body: Any) -> None:
        self._send_json(200, self.worker.score(body))

    def tokenize(self, params: dict, query: dict, body: Any) -> None:
        self._send_json(200, self.worker.tokenize(body))

    def detokenize(self, params: dict, query: dict, body: Any) -> None:
        self._send_json(200, self.worker.detokenize(body))


_ID = r"(?P<id>[^/]+)"
_MODEL_ID = r"(?P<id>.+)"
ROUTES: list[tuple[str, re.Pattern, Callable]] = [(m, re.compile(p), f) for m, p, f in [
    ("GET", r"/v1/info", Handler.info),
    ("GET", r"/v1/state", Handler.state),
    ("POST", r"/v1/stop", Handler.stop),
    ("GET", r"/v1/models", Handler.models),
    ("POST", r"/v1/models/load", Handler.load_model),
    ("DELETE", rf"/v1/models/{_MODEL_ID}", Handler.unload_model),
    ("POST", r"/v1/poc/jobs", Handler.create_job),
    ("GET", r"/v1/poc/jobs", Handler.list_jobs),
    ("GET", rf"/v1/poc/jobs/{_ID}", Handler.job_status),
    ("DELETE", rf"/v1/poc/jobs/{_ID}", Handler.delete_job),
    ("GET", rf"/v1/poc/jobs/{_ID}/artifacts", Handler.artifacts),
    ("POST", r"/v1/poc/verify", Handler.verify),
    ("POST", r"/v1/generate", Handler.generate),
    ("POST", r"/v1/score", Handler.score),
    ("POST", r"/v1/tokenize", Handler.tokenize),
    ("POST", r"/v1/detokenize", Handler.detokenize),
]]


class ThreadingUnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def server_bind(self) -> None:
        socketserver.UnixStreamServer.server_bind(self)
        os.chmod(self.server_address, 0o600)  # a local worker is reachable by its owner only
        self.server_name, self.server_port = "localhost", 0


def make_server(worker: Worker, listen: str, token: str | None = None, verbose: bool = False):
    """Binds `host:port` (port 0 = any free port) or `unix:/path`; returns (server, url)."""
    handler = type("BoundHandler", (Handler,), {"worker": worker, "token": token, "verbose": verbose})
    if listen.startswith("unix:"):
        path = listen[5:]
        if os.path.exists(path):
            os.unlink(path)
        srv = ThreadingUnixHTTPServer(path, handler)
        return srv, f"http+unix://{path}"
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--listen must be HOST:PORT or unix:PATH, got '{listen}'")
    host = host.strip("[]")
    ThreadingHTTPServer.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
    srv = ThreadingHTTPServer((host, int(port)), handler)
    srv.daemon_threads = True
    h, p = srv.server_address[:2]
    return srv, f"http://{'[' + h + ']' if ':' in h else h}:{p}"


def allowed_model_file(model_dir: str | None, path: str) -> str:
    """Specs/worker.md §4.4: a client loads files only from the model directory, checked lexically
    first (nothing outside is touched), then again with symlinks resolved."""
    def refuse(message: str) -> WorkerError:
        return WorkerError(403, "path_not_allowed", message, "path")
    if model_dir is None:
        raise refuse("this worker loads no model files for clients")
    directory = os.path.normpath(os.path.abspath(model_dir))
    candidate = os.path.normpath(path if os.path.isabs(path) else os.path.join(directory, path))
    if not candidate.startswith(directory.rstrip("/") + "/"):
        raise refuse(f"a client may load model files only from the worker's model directory {model_dir}")
    real_dir = os.path.realpath(directory)
    if not os.path.isdir(real_dir):
        raise refuse(f"the worker's model directory {model_dir} does not exist")
    if not os.path.exists(candidate):
        raise WorkerError(404, "not_found", f"no file {path} in the worker's model directory {model_dir}", "path")
    real = os.path.realpath(candidate)
    if not real.startswith(real_dir.rstrip("/") + "/"):
        raise refuse(f"a client may load model files only from the worker's model directory {model_dir}")
    return real


def _load_arg(worker: Worker, spec: str, synthetic: bool) -> None:
    model_id, sep, rest = spec.partition("=")
    if not sep or not model_id or not rest:
        raise SystemExit(f"pyworker: expected ID=VALUE, got '{spec}'")
    if synthetic:
        preset, _, seed = rest.partition(":")
        body = {"id": model_id, "synthetic": {"preset": preset, "seed": seed or "00" * 32}}
    else:
        body = {"id": model_id, "path": os.path.expanduser(rest)}
    try:
        m = worker.load_model(body)
    except WorkerError as e:
        raise SystemExit(f"pyworker: cannot load {spec}: {e}")
    print(f"pyworker: loaded {m['id']} ({m['digest']}, {m['parameters']} parameters)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m pyworker.server", description="Chorus worker (Specs/worker.md)")
    ap.add_argument("--listen", default="127.0.0.1:8090", help="HOST:PORT (port 0 = any) or unix:PATH")
    ap.add_argument("--model", action="append", default=[], metavar="ID=PATH", help="load a GGUF model at start")
    ap.add_argument("--synthetic", action="append", default=[], metavar="ID=PRESET[:SEEDHEX]",
                    help="load a synthetic model (presets: tiny, devnet) at start")
    ap.add_argument("--backend", choices=["numpy", "torch"], default="numpy")
    ap.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    ap.add_argument("--dtype", choices=["fp32", "fp16", "bf16"], default="fp32", help="torch weight dtype")
    ap.add_argument("--token", default=os.environ.get("CHORUS_WORKER_TOKEN"),
                    help="require 'Authorization: Bearer TOKEN' (default: $CHORUS_WORKER_TOKEN)")
    ap.add_argument("--model-dir", default=os.environ.get("CHORUS_MODEL_DIR", os.path.expanduser("~/.cache/chorus/models")),
                    help="the only directory clients may load model files from (default: $CHORUS_MODEL_DIR, else ~/.cache/chorus/models)")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = ap.parse_args(argv)
    if not args.listen.startswith("unix:") and not args.token:
        print("pyworker: a TCP listener needs --token (or $CHORUS_WORKER_TOKEN), loopback included; "
              "or listen on unix:PATH", file=sys.stderr)
        return 2
    try:
        backend = Backend(args.backend, args.device, args.dtype)
    except (RuntimeError, ValueError) as e:
        print(f"pyworker: {e}", file=sys.stderr)
        return 2
    worker = Worker(backend, Limits())
    worker.client_model_dir = args.model_dir
    for spec in args.model:
        _load_arg(worker, spec, synthetic=False)
    for spec in args.synthetic:
        _load_arg(worker, spec, synthetic=True)
    srv, url = make_server(worker, args.listen, args.token, args.verbose)
    print(f"READY {url}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
