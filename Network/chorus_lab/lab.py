"""The lab as a context manager: builds the network, starts the relay and the nodes, polls them,
and tears everything down on exit, whether the scenario finished, failed or was interrupted.

    with Lab(options) as lab:
        ... lab.nodes[i], lab.poller.snapshot(), lab.faults[i] ...
"""

import json
import os
import random
import signal
import subprocess
import sys
import time

from . import faults, metrics, nodes, topology

NETWORK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE_ROOT = os.path.dirname(NETWORK_DIR)
STATE_DIR = "/tmp/chorus-lab/runs"  # RUN.json per running lab: its pid and the relay's, for `clean`


def log(message):
    print(f"[lab {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def chorusd_binary(release: bool):
    """The chorusd to run, built (debug, or release with --release) when missing. The lab needs
    no `chorus` binary: it speaks the control protocol itself (control.py)."""
    config = "release" if release else "debug"
    path = os.path.join(PACKAGE_ROOT, ".build", config, "chorusd")
    if not os.path.exists(path):
        log(f"building chorusd ({config})")
        subprocess.run(["swift", "build", "-c", config, "--product", "chorusd"], cwd=PACKAGE_ROOT, check=True)
    return path


class Lab:
    def __init__(self, options, scenario):
        self.options = options
        self.run = f"{os.getpid() & 0xffff:04x}"
        topology.use_run(self.run)
        self.state_file = os.path.join(STATE_DIR, f"{self.run}.json")
        self.n = options.nodes
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.work = os.path.abspath(options.work_dir or f"/tmp/chorus-lab/{scenario}-{options.nodes}-{stamp}")
        self.chorusd = chorusd_binary(options.release)
        self.relayed = options.delay_ms > 0 or options.jitter_ms > 0 or options.relay
        self.rng = random.Random(options.seed)
        self.nodes = {i: nodes.Node(i, self.work, self.chorusd, self.relayed) for i in range(1, self.n + 1)}
        self.faults = {i: faults.NodeFaults(i) for i in self.nodes}
        self.relay = None
        self.hogs = []           # CPU hog processes (starve), killed by stop_hog and on every exit
        self.poller = None
        self.first_start = None
        self.all_started = None

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self):
        signal.signal(signal.SIGTERM, _raise_interrupt)
        signal.signal(signal.SIGINT, _raise_interrupt)  # also when started with SIGINT ignored
        try:
            self._build()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _build(self):
        os.makedirs(self.work, exist_ok=True)
        log(f"lab run {self.run} (namespaces {topology.node_ns(1)}...), work dir {self.work}")
        self._save_state()
        t = time.time()
        topology.create(self.n)
        log(f"{self.n} namespaces and the bridge in {time.time() - t:.1f} s")
        for node in self.nodes.values():
            node.init(dict(s.split("=", 1) for s in self.options.set))
        if self.options.loss_pct > 0:
            for f in self.faults.values():
                f.loss_permille = round(self.options.loss_pct * 10)
            faults.apply_all(self.faults.values())
            log(f"loss {self.options.loss_pct} % per packet on every node's input")
        if self.relayed:
            self._start_relay()
        self.poller = metrics.Poller(self.nodes, os.path.join(self.work, "metrics.jsonl"), self.options.poll_s)
        self.poller.start()  # before the nodes, so the connect scenario sees their first peers
        self._start_nodes()

    def __exit__(self, kind, value, traceback):
        log("cleaning up")
        self.stop_hog()
        if self.poller:
            self.poller.stop()
        for node in self.nodes.values():   # SIGTERM all first, then wait: stops in parallel
            if node.alive():
                if node.paused:
                    node.resume()
                node.signal(signal.SIGTERM)
        for node in self.nodes.values():
            node.stop(timeout=5.0)
        if self.relay and self.relay.poll() is None:
            self.relay.terminate()
            try:
                self.relay.wait(5)
            except subprocess.TimeoutExpired:
                self.relay.kill()
        topology.destroy(self.run)
        if os.path.exists(self.state_file):
            os.remove(self.state_file)
        log(f"run {self.run}: namespaces, nftables tables and processes removed")
        return False

    def _start_relay(self):
        spec = {"delay_ms": self.options.delay_ms, "jitter_ms": self.options.jitter_ms, "seed": self.options.seed,
                "routes": [{"ns": topology.node_ns(i), "listen": node.address,
                            "target": f"127.0.0.1:{topology.INNER_PORT}"} for i, node in self.nodes.items()]}
        path = os.path.join(self.work, "relay.json")
        with open(path, "w") as f:
            json.dump(spec, f)
        with open(os.path.join(self.work, "relay.log"), "ab") as relay_log:
            self.relay = subprocess.Popen([sys.executable, "-m", "chorus_lab.relay", path], cwd=NETWORK_DIR,
                                          stdout=subprocess.PIPE, stderr=relay_log, start_new_session=True, text=True)
        self._save_state()
        line = self.relay.stdout.readline()
        if '"ready"' not in line:
            raise RuntimeError(f"the relay did not start; see {self.work}/relay.log")
        log(f"delay relay: {self.options.delay_ms} ms one-way, jitter ±{self.options.jitter_ms} ms, pid {self.relay.pid}")

    def _save_state(self):
        os.makedirs(STATE_DIR, exist_ok=True)
        with open(self.state_file, "w") as f:
            json.dump({"lab_pid": os.getpid(), "relay_pid": self.relay.pid if self.relay else None,
                       "hog_pids": [p.pid for p in self.hogs], "work": self.work}, f)

    def seeds_for(self, i):
        """Node i's seeds: the first --seeds nodes, plus --random-seeds random earlier nodes."""
        fixed = [j for j in range(1, self.options.seeds + 1) if j != i]
        earlier = [j for j in range(1, i) if j not in fixed]
        extra = self.rng.sample(earlier, min(self.options.random_seeds, len(earlier)))
        return [self.nodes[j].address for j in fixed + extra]

    def _start_nodes(self):
        seed_count = min(self.options.seeds, self.n)
        self.first_start = time.time()
        for i in range(1, seed_count + 1):
            self.nodes[i].start(self.seeds_for(i)[: i - 1] if i > 1 else [])
        for i in range(1, seed_count + 1):
            self.nodes[i].wait_ready()
        for i in range(seed_count + 1, self.n + 1):
            self.nodes[i].start(self.seeds_for(i))
            time.sleep(self.options.start_interval_ms / 1000)
        for node in self.nodes.values():
            node.wait_ready(timeout=30)
        self.all_started = time.time()
        log(f"{self.n} nodes started in {self.all_started - self.first_start:.1f} s")

    # -- CPU hog (starve) -----------------------------------------------------------------------

    def start_hog(self, count):
        """Starts `count` busy-looping processes (chorus_lab/hog.py) at normal priority, each in a
        session of its own (a Ctrl-C in the terminal reaches only the lab, which kills them)."""
        for _ in range(count):
            self.hogs.append(subprocess.Popen([sys.executable, "-m", "chorus_lab.hog"], cwd=NETWORK_DIR,
                                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL, start_new_session=True))
        self._save_state()
        log(f"CPU hog: {count} busy-looping processes (pids {', '.join(str(p.pid) for p in self.hogs)})")

    def stop_hog(self):
        """Kills every hog process (SIGKILL: they hold no state) and waits for them."""
        if not self.hogs:
            return
        for p in self.hogs:
            if p.poll() is None:
                try:
                    p.kill()
                except OSError:
                    pass
        for p in self.hogs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                log(f"hog pid {p.pid} did not exit after SIGKILL")
        log(f"CPU hog stopped ({len(self.hogs)} processes killed)")
        self.hogs = []
        if os.path.exists(self.state_file):
            self._save_state()

    # -- helpers for scenarios ------------------------------------------------------------------

    def wait_until(self, predicate, timeout, step=None):
        """Polls `predicate(snapshot)` after every poller round; returns the time it held, or None."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate(self.poller.snapshot()):
                return time.time()
            time.sleep(step or self.options.poll_s / 2)
        return None

    def resources(self):
        """Memory and CPU of every chorusd process (and the relay) right now. `cpu_s_by_pid`
        lets `cpu_between` count only processes alive at both ends (restarts reset CPU time)."""
        stats = {n.pid: n.proc_stats() for n in self.nodes.values() if n.pid is not None}
        stats = {pid: s for pid, s in stats.items() if s}
        rss = [s["rss_kb"] for s in stats.values()]
        result = {"nodes_running": len(rss),
                  "rss_mb_avg": round(sum(rss) / len(rss) / 1024, 1) if rss else None,
                  "rss_mb_max": round(max(rss) / 1024, 1) if rss else None,
                  "rss_mb_total": round(sum(rss) / 1024, 1),
                  "cpu_s_by_pid": {pid: s["cpu_s"] for pid, s in stats.items()}}
        if self.relay and self.relay.poll() is None:
            relay = nodes.process_stats(self.relay.pid)
            if relay:
                result["relay_rss_mb"] = round(relay["rss_kb"] / 1024, 1)
                result["relay_cpu_s"] = round(relay["cpu_s"], 2)
        with open("/proc/loadavg") as f:
            result["loadavg_1m"] = float(f.read().split()[0])
        return result


def cpu_between(before, after):
    """CPU seconds the chorusd processes used between two `resources()` snapshots."""
    b, a = before["cpu_s_by_pid"], after["cpu_s_by_pid"]
    return sum(a[pid] - b[pid] for pid in a if pid in b)


def _raise_interrupt(number, frame):
    raise KeyboardInterrupt


def _alive(pid, marker):
    """Whether `pid` runs a command line containing `marker` (guards against reused pids)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return marker in f.read()
    except (OSError, TypeError):
        return False


def clean():
    """Removes what labs left behind: each run whose lab process is gone (its relay and CPU hogs, its
    namespaces with the processes inside them, interfaces, nftables tables), and namespaces named
    like a lab run (clab<4 hex>-...) that have no state file. Runs whose lab is still running are
    left alone, as is everything not named by this lab."""
    runs = {}
    if os.path.isdir(STATE_DIR):
        for name in os.listdir(STATE_DIR):
            with open(os.path.join(STATE_DIR, name)) as f:
                runs[name.removesuffix(".json")] = json.load(f)
    for run in sorted(topology.runs_present() | set(runs)):
        state = runs.get(run, {})
        if _alive(state.get("lab_pid"), b"Network/lab") or _alive(state.get("lab_pid"), b"chorus_lab"):
            log(f"run {run} is still running (pid {state['lab_pid']}); left alone")
            continue
        if _alive(state.get("relay_pid"), b"chorus_lab.relay"):
            os.kill(state["relay_pid"], signal.SIGKILL)
        for pid in state.get("hog_pids", []):
            if _alive(pid, b"chorus_lab.hog"):
                os.kill(pid, signal.SIGKILL)
        names = topology.destroy(run)
        path = os.path.join(STATE_DIR, f"{run}.json")
        if os.path.exists(path):
            os.remove(path)
        log(f"run {run}: removed {len(names)} namespaces")
