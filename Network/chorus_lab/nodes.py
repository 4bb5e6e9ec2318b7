"""The chorusd processes: data directories, config, start, stop, kill -9, pause.

Node i keeps its data in WORK/nodes/node-i and runs `ip netns exec clab<RUN>-i chorusd run`
(`ip netns exec` execs chorusd, so the pid the lab holds is chorusd's own). Each process starts
in a session of its own so a Ctrl-C in the terminal reaches only the lab, which then stops the
nodes in order.
"""

import os
import re
import signal
import subprocess
import time

from . import control, topology

NETWORK = "chorus-lab"


class Node:
    def __init__(self, i: int, work: str, chorusd: str, relayed: bool):
        self.i = i
        self.dir = os.path.join(work, "nodes", f"node-{i}")
        self.chorusd = chorusd
        self.relayed = relayed
        self.ip = topology.node_ip(i)
        self.address = f"{self.ip}:{topology.NODE_PORT}"  # what other nodes dial
        self.process = None
        self.started_at = None   # unix time of the last start
        self.public_key = None   # learned from the first status answer
        self.paused = False

    @property
    def control_socket(self):
        return os.path.join(self.dir, "control.sock")

    def init(self, overrides):
        """`chorusd init`, then sets the lab's config: no per-/24 inbound limit (every node is in
        one subnet; lab addresses are private, 10.77/16), the listen address (behind the relay: 127.0.0.1:7701, announcing the relay's
        address), and any KEY=VALUE overrides from --set."""
        topology.sh(self.chorusd, "init", "--data-dir", self.dir, "--listen", self.address, "--network", NETWORK)
        path = os.path.join(self.dir, "config.toml")
        with open(path) as f:
            text = f.read()
        settings = {"inbound_per_group": "0", "allow_private_addresses": "true"}
        if self.relayed:
            settings["listen"] = f'["127.0.0.1:{topology.INNER_PORT}"]'
            settings["advertise"] = f'"{self.address}"'
        settings.update(overrides)
        for key, value in settings.items():
            text, count = re.subn(rf"(?m)^#?\s*{re.escape(key)}\s*=.*?(\s+#.*)?$",
                                  lambda m: f"{key} = {value}{m.group(1) or ''}", text, count=1)
            if count == 0:
                raise RuntimeError(f"config.toml has no setting `{key}` (see Sources/ChorusNode/Config/ConfigFile.swift)")
        with open(path, "w") as f:
            f.write(text)

    def start(self, seeds=()):
        args = ["ip", "netns", "exec", topology.node_ns(self.i), self.chorusd, "run", "--data-dir", self.dir,
                "--log-format", "json"]
        for seed in seeds:
            args += ["--seed", seed]
        log = open(os.path.join(self.dir, "chorusd.log"), "ab")
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()
        self.started_at = time.time()
        self.paused = False

    @property
    def pid(self):
        return self.process.pid if self.process and self.process.poll() is None else None

    def alive(self):
        return self.pid is not None

    def signal(self, number):
        if self.pid is not None:
            os.kill(self.pid, number)

    def kill9(self):
        self.signal(signal.SIGKILL)
        if self.process:
            self.process.wait()
        self.paused = False

    def pause(self):
        self.signal(signal.SIGSTOP)
        self.paused = True

    def resume(self):
        self.signal(signal.SIGCONT)
        self.paused = False

    def stop(self, timeout=5.0):
        """SIGTERM (graceful), then SIGKILL if it has not exited in `timeout` seconds."""
        if self.pid is None:
            return
        if self.paused:
            self.resume()
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()

    def wait_ready(self, timeout=10.0):
        """Waits until the control socket answers `status`; returns the answer."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.alive():
                raise RuntimeError(f"node {self.i} exited (status {self.process.returncode}); see {self.dir}/chorusd.log")
            try:
                status = control.call(self.control_socket, "status", timeout=0.5)
                self.public_key = status["public_key"]
                return status
            except (OSError, ValueError, control.ControlError):
                time.sleep(0.02)
        raise RuntimeError(f"node {self.i} did not answer on {self.control_socket} within {timeout} s")

    def statement_ids(self):
        """Ids (hex) of the statements in the node's LMDB store, read with `mdb_dump` (LMDB
        allows readers in other processes while the node writes)."""
        result = topology.sh("mdb_dump", "-s", "statements", os.path.join(self.dir, "store"), check=False)
        if result.returncode != 0:
            return None
        lines = result.stdout.split("HEADER=END\n", 1)[-1].splitlines()
        data = [line.strip() for line in lines if line.startswith(" ")]
        return set(data[0::2])  # key, value, key, value, ...

    def status(self, timeout=0.5):
        return control.call(self.control_socket, "status", timeout=timeout)

    def peers(self, timeout=0.5):
        return control.call(self.control_socket, "peers", timeout=timeout)

    def members(self, timeout=0.5):
        return control.call(self.control_socket, "members", timeout=timeout)

    def proc_stats(self):
        return process_stats(self.pid) if self.pid is not None else None


def process_stats(pid):
    """RSS (KiB) and CPU seconds (user + system) of a process, from /proc; None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return {"rss_kb": rss, "cpu_s": (int(fields[11]) + int(fields[12])) / ticks}
    except (OSError, StopIteration, ValueError, IndexError):
        return None
