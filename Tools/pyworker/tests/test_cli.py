"""The command-line entry points: `python3 -m pyworker serve|selftest` as a node would start them."""
import json
import os
import subprocess
import sys
import urllib.request

from conftest import TOOLS


def test_serve_prints_ready_and_answers():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    p = subprocess.Popen([sys.executable, "-m", "pyworker", "serve", "--listen", "127.0.0.1:0",
                          "--synthetic", "chorus/synthetic-tiny=tiny:" + "01" * 32],
                         cwd=TOOLS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = p.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:"), (line, p.stderr.read() if p.poll() is not None else "")
        url = line.split(" ", 1)[1]
        with urllib.request.urlopen(url + "/v1/info", timeout=10) as r:
            info = json.load(r)
        assert [m["id"] for m in info["models"]] == ["chorus/synthetic-tiny"]
    finally:
        p.terminate()
        p.wait(timeout=10)
        p.stdout.close()
        p.stderr.close()


def test_serve_refuses_open_listen_without_token():
    r = subprocess.run([sys.executable, "-m", "pyworker", "serve", "--listen", "0.0.0.0:0"], cwd=TOOLS,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--token" in r.stderr


def test_selftest_says_when_torch_is_missing(monkeypatch, capsys):
    from pyworker import selftest
    monkeypatch.setitem(sys.modules, "torch", None)
    assert selftest.main(["--no-bench"]) == 2
    assert "PyTorch is not installed" in capsys.readouterr().err
