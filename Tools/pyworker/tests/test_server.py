"""The HTTP worker end to end: a real server on an ephemeral port, a stdlib HTTP client."""
import http.client
import json
import threading
import time

import pytest

from pyworker import poc
from pyworker.server import make_server
from pyworker.worker import Backend, Limits, Worker
from conftest import load_vectors

SEED_HEX = bytes(range(32)).hex()


@pytest.fixture(scope="module")
def server():
    worker = Worker(Backend("numpy"), Limits(max_verify_nonces=64, max_jobs=4))
    srv, url = make_server(worker, "127.0.0.1:0", token=None)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    port = srv.server_address[1]
    yield port, worker
    worker.stop()
    srv.shutdown()
    srv.server_close()


def call(port, method, path, body=None, raw=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    conn.request(method, path, body=data, headers=headers or {})
    r = conn.getresponse()
    payload = r.read()
    conn.close()
    ctype = r.getheader("Content-Type", "")
    if "ndjson" in ctype:
        return r.status, [json.loads(line) for line in payload.decode().splitlines()]
    return r.status, json.loads(payload) if payload else None


def load_tiny(port, model_id="tiny"):
    return call(port, "POST", "/v1/models/load", {"id": model_id, "synthetic": {"preset": "tiny", "seed": SEED_HEX}})


def test_info_state_and_model_loading(server):
    port, _ = server
    status, info = call(port, "GET", "/v1/info")
    assert status == 200 and info["protocol"] == 1 and info["backend"]["name"] == "numpy"
    assert info["poc"]["specs"] == [poc.SPEC]
    vec = load_vectors("poc-synthetic.json")["cases"][0]
    status, m = call(port, "POST", "/v1/models/load",
                     {"id": "chorus/synthetic-tiny", "digest": vec["model_digest"],
                      "synthetic": {"config": vec["config"], "seed": vec["synthetic_seed"]}})
    assert status == 200 and m["digest"] == vec["model_digest"] and m["parameters"] > 0
    status, err = call(port, "POST", "/v1/models/load",
                       {"id": "chorus/synthetic-tiny", "synthetic": {"preset": "tiny", "seed": SEED_HEX}})
    assert status == 409 and err["error"]["code"] == "model_exists"
    status, err = call(port, "POST", "/v1/models/load",
                       {"id": "other", "digest": "blake2b:" + "00" * 32, "synthetic": {"preset": "tiny", "seed": SEED_HEX}})
    assert status == 409 and err["error"]["code"] == "digest_mismatch" and err["error"]["field"] == "digest"
    # Outside the model directory: refused without a word about the file (Specs/worker.md §4.4).
    status, err = call(port, "POST", "/v1/models/load", {"id": "x", "path": "/nonexistent/model.gguf"})
    assert status == 403 and err["error"]["code"] == "path_not_allowed" and err["error"]["field"] == "path"
    status, state = call(port, "GET", "/v1/state")
    assert status == 200 and state["state"] in ("idle", "poc_generating") and "chorus/synthetic-tiny" in state["models"]


def test_poc_job_pull_and_verify_against_vectors(server):
    port, _ = server
    vec = load_vectors("poc-synthetic.json")["cases"][0]
    if call(port, "GET", "/v1/info")[1]["models"] == [] or not any(
            m["id"] == "chorus/synthetic-tiny" for m in call(port, "GET", "/v1/info")[1]["models"]):
        call(port, "POST", "/v1/models/load", {"id": "chorus/synthetic-tiny",
                                               "synthetic": {"config": vec["config"], "seed": vec["synthetic_seed"]}})
    base = {"model": "chorus/synthetic-tiny", "seed": vec["epoch_seed"], "participant": vec["participant"],
            "params": {"seq_len": vec["seq_len"]}}
    got = {}
    for slot in range(2):  # two workers' slots: offset w, stride 2
        status, job = call(port, "POST", "/v1/poc/jobs", {**base, "nonce_offset": slot, "nonce_stride": 2,
                                                          "nonce_count": 4, "batch_size": 3})
        assert status == 201 and job["state"] == "running"
        cursor, deadline = 0, time.time() + 30
        while time.time() < deadline:
            status, page = call(port, "GET", f"/v1/poc/jobs/{job['id']}/artifacts?after={cursor}&wait_ms=2000")
            assert status == 200
            for b in page["batches"]:
                for a in b["artifacts"]:
                    got[a["nonce"]] = a["vector"]
            cursor = page["cursor"]
            if page["job"]["state"] == "done" and not page["batches"]:
                break
        assert page["job"]["nonces_done"] == 4
        status, deleted = call(port, "DELETE", f"/v1/poc/jobs/{job['id']}")
        assert status == 200 and deleted["deleted"] == job["id"]
        assert call(port, "GET", f"/v1/poc/jobs/{job['id']}")[0] == 404
    assert sorted(got) == list(range(8))
    for n in vec["nonces"]:
        assert poc.distance(bytes.fromhex(n["vector"]), bytes.fromhex(got[n["nonce"]])) <= vec["dist_threshold"] / 10
    claimed = [n["vector"] for n in vec["nonces"][:3]]
    claimed[1] = vec["nonces"][2]["vector"]  # a wrong claim
    status, res = call(port, "POST", "/v1/poc/verify", {**base, "nonces": [0, 1, 2], "vectors": claimed})
    assert status == 200 and [a["nonce"] for a in res["artifacts"]] == [0, 1, 2]
    assert res["distances"][0] < 0.005 and res["distances"][1] > 0.5 and res["distances"][2] < 0.005


def test_open_ended_job_stops(server):
    port, worker = server
    load_tiny(port, "tiny-stop")
    status, job = call(port, "POST", "/v1/poc/jobs", {"model": "tiny-stop", "seed": SEED_HEX, "participant": SEED_HEX,
                                                      "params": {"seq_len": 4}, "batch_size": 2})
    assert status == 201 and job["nonce_count"] is None
    time.sleep(0.2)
    status, st = call(port, "GET", "/v1/state")
    assert st["activities"]["poc_jobs_running"] >= 1
    assert call(port, "DELETE", "/v1/models/tiny-stop")[1]["error"]["code"] == "model_busy"
    status, res = call(port, "POST", "/v1/stop")
    assert status == 200 and job["id"] in res["stopped_jobs"]
    status, js = call(port, "GET", f"/v1/poc/jobs/{job['id']}")
    assert js["state"] == "stopped" and js["nonces_done"] > 0
    call(port, "DELETE", f"/v1/poc/jobs/{job['id']}")
    assert call(port, "DELETE", "/v1/models/tiny-stop") == (200, {"unloaded": "tiny-stop"})


def test_generate_stream_and_score_agree(server):
    port, _ = server
    load_tiny(port, "tiny-gen")
    req = {"model": "tiny-gen", "prompt_tokens": [10, 20, 30], "max_tokens": 5, "top_logprobs": 3}
    status, lines = call(port, "POST", "/v1/generate", req)
    assert status == 200 and len(lines) == 6
    toks, final = lines[:5], lines[5]
    assert [t["index"] for t in toks] == list(range(5)) and final["finish_reason"] == "length"
    assert final["usage"] == {"prompt_tokens": 3, "completion_tokens": 5}
    for t in toks:
        assert len(t["top"]) == 3 and t["top"][0][0] == t["id"]  # greedy picks the top token
    status, whole = call(port, "POST", "/v1/generate", {**req, "stream": False})
    assert [t["id"] for t in whole["tokens"]] == [t["id"] for t in toks]
    status, sc = call(port, "POST", "/v1/score", {"model": "tiny-gen", "prompt_tokens": [10, 20, 30],
                                                  "completion_tokens": [t["id"] for t in toks], "top_logprobs": 3})
    assert status == 200
    for a, b in zip(sc["tokens"], toks):
        assert a["id"] == b["id"] and abs(a["logprob"] - b["logprob"]) < 1e-4
    status, sampled = call(port, "POST", "/v1/generate", {**req, "stream": False,
                                                          "sampling": {"temperature": 1.0, "seed": 7}})
    status, again = call(port, "POST", "/v1/generate", {**req, "stream": False,
                                                        "sampling": {"temperature": 1.0, "seed": 7}})
    assert [t["id"] for t in sampled["tokens"]] == [t["id"] for t in again["tokens"]] and sampled["seed"] == 7
    status, stopped = call(port, "POST", "/v1/generate", {**req, "stream": False, "stop_tokens": [toks[1]["id"]]})
    assert stopped["finish_reason"] == "stop" and len(stopped["tokens"]) <= 2


def test_tokenize_and_detokenize_byte_level(server):
    port, _ = server
    load_tiny(port, "tiny-tok")
    status, r = call(port, "POST", "/v1/tokenize", {"model": "tiny-tok", "text": "héllo"})
    assert status == 200 and r["tokens"] == list("héllo".encode())
    status, r = call(port, "POST", "/v1/detokenize", {"model": "tiny-tok", "tokens": r["tokens"]})
    assert r["text"] == "héllo"
    status, err = call(port, "POST", "/v1/tokenize", {"model": "tiny-tok", "messages": [{"role": "user", "content": "x"}]})
    assert status == 422 and err["error"]["code"] == "unsupported"


@pytest.mark.parametrize("method,path,body,raw,status,code,field", [
    ("POST", "/v1/generate", None, b"{not json", 400, "invalid_json", None),
    ("POST", "/v1/generate", None, b"[1,2]", 400, "invalid_request", None),
    ("POST", "/v1/generate", {"model": "nope", "prompt_tokens": [1]}, None, 404, "unknown_model", "model"),
    ("POST", "/v1/generate", {"model": "tiny-err", "prompt_tokens": [1, 256]}, None, 400, "invalid_token", "prompt_tokens[1]"),
    ("POST", "/v1/generate", {"model": "tiny-err", "prompt_tokens": [1, -1]}, None, 400, "invalid_token", "prompt_tokens[1]"),
    ("POST", "/v1/generate", {"model": "tiny-err", "prompt_tokens": []}, None, 400, "invalid_request", "prompt_tokens"),
    ("POST", "/v1/generate", {"model": "tiny-err", "prompt_tokens": [1] * 500, "max_tokens": 100}, None, 400,
     "context_overflow", "prompt_tokens"),
    ("POST", "/v1/generate", {"model": "tiny-err", "prompt_tokens": [1] * 600}, None, 400, "too_large", "prompt_tokens"),
    ("POST", "/v1/generate", {"model": "tiny-err", "prompt_tokens": [1], "top_logprobs": 99}, None, 400,
     "invalid_request", "top_logprobs"),
    ("POST", "/v1/score", {"model": "tiny-err", "prompt_tokens": [1], "completion_tokens": [999]}, None, 400,
     "invalid_token", "completion_tokens[0]"),
    ("POST", "/v1/detokenize", {"model": "tiny-err", "tokens": [256]}, None, 400, "invalid_token", "tokens[0]"),
    ("POST", "/v1/poc/jobs", {"model": "tiny-err", "seed": "zz", "participant": SEED_HEX, "params": {"seq_len": 4}},
     None, 400, "invalid_request", "seed"),
    ("POST", "/v1/poc/jobs", {"model": "tiny-err", "seed": SEED_HEX, "participant": SEED_HEX, "params": {"seq_len": 4},
                              "spec": "chorus-poc/9"}, None, 422, "unsupported", "spec"),
    ("POST", "/v1/poc/jobs", {"model": "tiny-err", "seed": SEED_HEX, "participant": SEED_HEX,
                              "params": {"seq_len": 4, "k_dim": 8}}, None, 422, "unsupported", "params.k_dim"),
    ("POST", "/v1/poc/jobs", {"model": "tiny-err", "seed": SEED_HEX, "participant": SEED_HEX,
                              "params": {"seq_len": 9999}}, None, 400, "invalid_request", "params.seq_len"),
    ("POST", "/v1/poc/verify", {"model": "tiny-err", "seed": SEED_HEX, "participant": SEED_HEX,
                                "params": {"seq_len": 4}, "nonces": list(range(65))}, None, 400, "too_large", "nonces"),
    ("POST", "/v1/poc/verify", {"model": "tiny-err", "seed": SEED_HEX, "participant": SEED_HEX,
                                "params": {"seq_len": 4}, "nonces": [1], "vectors": ["abcd"]}, None, 400,
     "invalid_request", "vectors[0]"),
    ("GET", "/v1/poc/jobs/nope/artifacts", None, None, 404, "unknown_job", "id"),
    ("GET", "/v1/nothing", None, None, 404, "not_found", None),
    ("GET", "/v1/generate", None, None, 405, "method_not_allowed", None),
    ("POST", "/v1/models/load", {"id": "y", "synthetic": {"config": {"hidden_size": 64}, "seed": SEED_HEX}}, None, 400,
     "invalid_request", "synthetic.config.layer_count"),
    ("POST", "/v1/models/load", {"id": "y", "path": "/x", "synthetic": {}}, None, 400, "invalid_request", "path"),
])
def test_errors(server, method, path, body, raw, status, code, field):
    port, _ = server
    load_tiny(port, "tiny-err")
    got_status, err = call(port, method, path, body=body, raw=raw)
    assert got_status == status, err
    assert err["error"]["code"] == code and err["error"].get("field") == field and err["error"]["message"]


def test_oversized_body_is_refused(server):
    port, worker = server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("POST", "/v1/generate")
    conn.putheader("Content-Length", str(worker.limits.max_body_bytes + 1))
    conn.endheaders()
    r = conn.getresponse()
    assert r.status == 413 and json.loads(r.read())["error"]["code"] == "too_large"
    conn.close()


def test_bearer_token_is_required_when_configured():
    worker = Worker(Backend("numpy"))
    srv, _ = make_server(worker, "127.0.0.1:0", token="s3cret")
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        port = srv.server_address[1]
        status, err = call(port, "GET", "/v1/info")
        assert status == 401 and err["error"]["code"] == "unauthorized"
        status, _ = call(port, "GET", "/v1/info", headers={"Authorization": "Bearer s3cret"})
        assert status == 200
    finally:
        srv.shutdown()
        srv.server_close()


def test_unix_socket_listener(tmp_path):
    import socket
    worker = Worker(Backend("numpy"))
    path = str(tmp_path / "w.sock")
    srv, url = make_server(worker, f"unix:{path}")
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        assert url == f"http+unix://{path}"
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.sendall(b"GET /v1/state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and json.loads(body)["state"] == "idle"
    finally:
        srv.shutdown()
        srv.server_close()
