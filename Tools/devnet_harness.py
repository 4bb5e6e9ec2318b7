"""What the slow-tier devnet checks (epoch_check.py, calibration_check.py) share: a free port
range for a local devnet, a timestamped log, and a harness that runs `chorus` against the nodes'
data directories and waits on the running `chorusd devnet`.
"""

import json
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYNTH = "chorus/synthetic-devnet"
SMOL = "HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1"


def logger(name):
    """A log function that prints `[name HH:MM:SS] message` to stderr (stdout stays JSON)."""
    def log(message):
        print(f"[{name} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
    return log


def free_port_range(count):
    """A base port such that base..base+count are all free on 127.0.0.1."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count + 1 >= 65535:
            continue
        ok = True
        for p in range(base, base + count + 1):
            with socket.socket() as t:
                try:
                    t.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free port range on 127.0.0.1")


class DevnetHarness:
    """Runs the `chorus` CLI from `bin` (relative to the repository) against data directories, and
    waits on conditions while `self.devnet` (the `chorusd devnet` process, once started) runs."""

    def __init__(self, bin, directory, env=None):
        self.bin = os.path.join(ROOT, bin)
        self.dir = directory
        os.makedirs(self.dir, exist_ok=True)
        self.env = env
        self.procs = []
        self.devnet = None

    def chorus(self, data_dir, *args, check=True, timeout=60):
        cmd = [os.path.join(self.bin, "chorus")] + (["--data-dir", data_dir] if data_dir else []) + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=self.env)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
        return r

    def json_of(self, data_dir, *args):
        """The command's --json output, or None when it fails or prints no JSON."""
        r = self.chorus(data_dir, *args, "--json", check=False)
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)
        except json.JSONDecodeError:
            return None

    def wait(self, what, predicate, timeout):
        """Polls predicate every second until it returns something truthy (returned); fails when
        the devnet exits or `timeout` seconds pass."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.devnet is not None and self.devnet.poll() is not None:
                raise RuntimeError(f"the devnet exited ({self.devnet.returncode}); see {self.dir}/devnet.err")
            value = predicate()
            if value:
                return value
            time.sleep(1)
        raise RuntimeError(f"timed out after {timeout} s waiting until {what}")
