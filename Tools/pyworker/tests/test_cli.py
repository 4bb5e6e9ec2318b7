"""The command-line entry points: `python3 -m pyworker serve|selftest` as a node would start them."""
import json
import os
import subprocess
import sys
import urllib.request

from conftest import TOOLS


def test_serve_prints_ready_and_answers():
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "CHORUS_WORKER_TOKEN": "t0ken"}
    p = subprocess.Popen([sys.executable, "-m", "pyworker", "serve", "--listen", "127.0.0.1:0",
                          "--synthetic", "chorus/synthetic-tiny=tiny:" + "01" * 32],
                         cwd=TOOLS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = p.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:"), (line, p.stderr.read() if p.poll() is not None else "")
        url = line.split(" ", 1)[1]
        request = urllib.request.Request(url + "/v1/info", headers={"Authorization": "Bearer t0ken"})
        with urllib.request.urlopen(request, timeout=10) as r:
            info = json.load(r)
        assert [m["id"] for m in info["models"]] == ["chorus/synthetic-tiny"]
    finally:
        p.terminate()
        p.wait(timeout=10)
        p.stdout.close()
        p.stderr.close()


def test_serve_refuses_tcp_without_token_loopback_included():
    env = {k: v for k, v in os.environ.items() if k != "CHORUS_WORKER_TOKEN"}
    for listen in ("0.0.0.0:0", "127.0.0.1:0"):
        r = subprocess.run([sys.executable, "-m", "pyworker", "serve", "--listen", listen], cwd=TOOLS,
                           capture_output=True, text=True, timeout=60, env=env)
        assert r.returncode == 2 and "--token" in r.stderr


def test_clients_load_model_files_only_from_the_model_directory(tmp_path):
    from pyworker.errors import WorkerError
    from pyworker.server import allowed_model_file
    models = tmp_path / "models"
    models.mkdir()
    (tmp_path / "secret").write_text("x")
    (models / "m.gguf").write_text("x")
    (models / "escape.gguf").symlink_to(tmp_path / "secret")
    for path in ("/etc/shadow", str(tmp_path / "secret"), "../secret", "escape.gguf", str(models / "escape.gguf")):
        try:
            allowed_model_file(str(models), path)
            raise AssertionError(path)
        except WorkerError as e:
            assert e.status == 403 and e.code == "path_not_allowed", path
    assert allowed_model_file(str(models), "m.gguf") == os.path.realpath(models / "m.gguf")


def test_selftest_says_when_torch_is_missing(monkeypatch, capsys):
    from pyworker import selftest
    monkeypatch.setitem(sys.modules, "torch", None)
    assert selftest.main(["--no-bench"]) == 2
    assert "PyTorch is not installed" in capsys.readouterr().err
