#!/usr/bin/env python3
"""The Chorus network lab: N real `chorusd` processes, each in its own Linux network namespace,
joined by a bridge, with loss (nftables), delay (a userspace relay per node: this kernel has no
netem), partitions, pauses (SIGSTOP) and kill -9 restarts. Needs root. Always cleans up.

    Network/lab run SCENARIO [--nodes N] [--delay-ms D] [--loss-permille L] [--json] ...
    Network/lab clean

Scenarios: connect, restart, propagation, partition, pause (see `Network/lab run --help`).
Metrics are polled from each node's control socket (`chorus --data-dir D status|messages --json`)
and written as JSON lines to WORK/metrics.jsonl; the report is printed at the end.
"""
import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = "chorus-lab-"
BRIDGE = "chlab0"
NODE_PORT = 7700    # chorusd inside each namespace (loopback only)
RELAY_PORT = 7701   # the delaying relay, the address peers dial


def sh(*args, check=True, capture=False):
    result = subprocess.run(args, check=False, text=True, capture_output=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout if capture else result


def address(i):
    return f"10.77.{i // 200}.{i % 200 + 1}"


class Lab:
    def __init__(self, nodes, delay_ms, loss_permille, work, binaries):
        self.n = nodes
        self.delay_ms = delay_ms
        self.loss = loss_permille
        self.work = work
        self.chorusd, self.chorus = binaries
        self.processes = {}
        self.relays = {}
        self.metrics = open(os.path.join(work, "metrics.jsonl"), "a")

    # -- topology -------------------------------------------------------------------------------
    def setup(self):
        clean()
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "addr", "add", "10.77.255.254/16", "dev", BRIDGE)
        sh("ip", "link", "set", BRIDGE, "up")
        for i in range(self.n):
            ns = PREFIX + str(i)
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", f"chv{i}", "type", "veth", "peer", "name", "eth0", "netns", ns)
            sh("ip", "link", "set", f"chv{i}", "master", BRIDGE, "up")
            sh("ip", "-n", ns, "addr", "add", f"{address(i)}/16", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            rules = ["add table inet lab", "add chain inet lab out { type filter hook output priority 0 ; }",
                     "add chain inet lab partition"]
            rules.append("add rule inet lab out jump partition")
            if self.loss > 0:
                rules.append(f"add rule inet lab out ip daddr 10.77.0.0/16 numgen random mod 1000 < {self.loss} drop")
            subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input="\n".join(rules) + "\n", text=True, check=True)
            self.init_node(i)

    def init_node(self, i):
        d = self.data(i)
        sh(self.chorusd, "init", "--data-dir", d, "--listen", f"127.0.0.1:{NODE_PORT}", "--network", "chorus-lab")
        config = open(os.path.join(d, "config.toml")).read()
        config = config.replace("# advertise = ", f'advertise = "{address(i)}:{RELAY_PORT}"\n# example: ')
        config = config.replace("allow_private_addresses = false", "allow_private_addresses = true")
        config = config.replace("inbound_per_group = 3 ", "inbound_per_group = 0 ")
        open(os.path.join(d, "config.toml"), "w").write(config)

    def data(self, i):
        return os.path.join(self.work, f"node-{i}")

    # -- processes ------------------------------------------------------------------------------
    def start(self, i, seeds):
        ns = PREFIX + str(i)
        if i not in self.relays:
            self.relays[i] = subprocess.Popen(
                ["ip", "netns", "exec", ns, sys.executable, os.path.join(ROOT, "Network", "relay.py"),
                 f"{address(i)}:{RELAY_PORT}", f"127.0.0.1:{NODE_PORT}", str(self.delay_ms)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        args = ["ip", "netns", "exec", ns, self.chorusd, "run", "--data-dir", self.data(i), "--log-format", "json"]
        for s in seeds:
            args += ["--seed", f"{address(s)}:{RELAY_PORT}"]
        log = open(os.path.join(self.data(i), "chorusd.log"), "a")
        self.processes[i] = subprocess.Popen(args, stdout=log, stderr=log)

    def start_all(self, seeds=3):
        for i in range(self.n):
            self.start(i, [s for s in range(min(seeds, self.n)) if s != i])

    def kill9(self, i):
        self.processes[i].send_signal(signal.SIGKILL)
        self.processes[i].wait()

    def stop_all(self):
        for p in self.processes.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.processes.values():
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        for r in self.relays.values():
            r.kill()

    # -- observation ----------------------------------------------------------------------------
    def control(self, i, *command):
        result = subprocess.run([self.chorus, "--data-dir", self.data(i), *command, "--json"], text=True, capture_output=True)
        if result.returncode != 0:
            return None
        try:
            return json.loads(result.stdout)
        except json.JSONDecodeError:
            return None

    def status(self, i):
        s = self.control(i, "status")
        if s is not None:
            self.metrics.write(json.dumps({"t": time.time(), "node": i, "status": s}) + "\n")
        return s

    def peer_counts(self):
        return [((self.status(i) or {}).get("peer_count", -1)) for i in range(self.n)]

    def wait_until(self, timeout, condition, poll=0.25):
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if condition():
                return time.monotonic() - start
            time.sleep(poll)
        return None

    # -- faults ---------------------------------------------------------------------------------
    def partition(self, side_a, side_b):
        for group, other in ((side_a, side_b), (side_b, side_a)):
            targets = ", ".join(address(j) for j in other)
            for i in group:
                subprocess.run(["ip", "netns", "exec", PREFIX + str(i), "nft", "add", "rule", "inet", "lab", "partition",
                                "ip", "daddr", "{ " + targets + " }", "drop"], check=True)

    def heal(self):
        for i in range(self.n):
            subprocess.run(["ip", "netns", "exec", PREFIX + str(i), "nft", "flush", "chain", "inet", "lab", "partition"], check=True)


def clean():
    """Removes every namespace, the bridge and the lab's processes (safe to run any time)."""
    for line in sh("ip", "netns", "list", capture=True, check=False).splitlines():
        ns = line.split()[0] if line.strip() else ""
        if ns.startswith(PREFIX):
            for pid in sh("ip", "netns", "pids", ns, capture=True, check=False).split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            sh("ip", "netns", "del", ns, check=False)
    sh("ip", "link", "del", BRIDGE, check=False)


def percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- scenarios --------------------------------------------------------------------------------------
def scenario_connect(lab, args):
    lab.start_all()
    want = min(6, lab.n - 1)
    took = lab.wait_until(args.timeout, lambda: min(lab.peer_counts()) >= want, poll=1)
    counts = lab.peer_counts()
    return {"nodes": lab.n, "seconds_until_every_node_has_%d_peers" % want: took,
            "peers_min": min(counts), "peers_median": statistics.median(counts), "peers_max": max(counts)}


def scenario_restart(lab, args):
    result = scenario_connect(lab, args)
    time.sleep(args.warmup)
    victim = random.Random(args.seed).randrange(lab.n)
    lab.kill9(victim)
    start = time.monotonic()
    lab.start(victim, seeds=[])
    want = min(6, lab.n - 1)
    took = lab.wait_until(30, lambda: ((lab.status(victim) or {}).get("peer_count", 0)) >= want, poll=0.1)
    result.update({"restarted_node": victim, "seconds_to_%d_peers_without_seeds" % want: took,
                   "peers_after": (lab.status(victim) or {}).get("peer_count")})
    return result


def publish_and_collect(lab, count, size, spacing, settle, rng):
    sent = []
    for k in range(count):
        origin = rng.randrange(lab.n)
        text = ("m%03d-" % k) + "x" * (size - 5)
        out = lab.control(origin, "publish", "--data", text)
        if out:
            sent.append((out["id"], origin))
        time.sleep(spacing)
    time.sleep(settle)
    received = {}
    for i in range(lab.n):
        for m in lab.control(i, "messages") or []:
            received[(m["id"], i)] = m["received_unix_ns"]
    return sent, received


def scenario_propagation(lab, args):
    result = scenario_connect(lab, args)
    time.sleep(args.warmup)
    before = [lab.status(i) or {} for i in range(lab.n)]
    rng = random.Random(args.seed)
    sent, received = publish_and_collect(lab, args.messages, args.size, 0.25, 3.0, rng)
    after = [lab.status(i) or {} for i in range(lab.n)]
    latencies, missing, late = [], 0, 0
    for mid, origin in sent:
        t0 = received.get((mid, origin))
        for i in range(lab.n):
            if i == origin:
                continue
            t = received.get((mid, i))
            if t is None or t0 is None:
                missing += 1
                continue
            ms = (t - t0) / 1e6
            latencies.append(ms)
            if ms > 2000:
                late += 1
    dups = sum(a.get("duplicates", 0) - b.get("duplicates", 0) for a, b in zip(after, before))
    pairs = max(1, len(sent) * (lab.n - 1))
    result.update({"messages": len(sent), "message_bytes": args.size, "delay_ms": lab.delay_ms,
                   "loss_permille": lab.loss, "latency_ms_p50": percentile(latencies, 0.5),
                   "latency_ms_p99": percentile(latencies, 0.99), "latency_ms_max": max(latencies) if latencies else None,
                   "delivered_within_2s": (pairs - missing - late) / pairs, "missing": missing,
                   "duplicates_per_node_per_message": dups / pairs})
    return result


def scenario_partition(lab, args):
    result = scenario_connect(lab, args)
    time.sleep(args.warmup)
    half = lab.n // 2
    a, b = list(range(half)), list(range(half, lab.n))
    lab.partition(a, b)
    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.partition_seconds
    sent = []
    while time.monotonic() < deadline:
        origin = rng.randrange(lab.n)
        out = lab.control(origin, "publish", "--data", "during partition %d" % len(sent))
        if out:
            sent.append(out["id"])
        time.sleep(max(1.0, args.partition_seconds / 20))
    lab.heal()
    healed = time.monotonic()

    def stored(i):
        out = subprocess.run([lab.chorus, "db", "stats", "--data-dir", os.path.join(lab.data(i), "store"), "--json"],
                             text=True, capture_output=True)
        try:
            return next(t["entries"] for t in json.loads(out.stdout)["tables"] if t["name"] == "statements")
        except (json.JSONDecodeError, StopIteration, KeyError):
            return -1

    # Identical stores: every node holds as many statements as the fullest one, and at least every
    # statement published during the partition (gossip fills each side, anti-entropy the other).
    def converged():
        counts = [stored(i) for i in range(lab.n)]
        return min(counts) == max(counts) and min(counts) >= len(sent)

    took = lab.wait_until(120, converged, poll=2)
    result.update({"partition_seconds": args.partition_seconds, "statements_published_during_partition": len(sent),
                   "seconds_after_heal_until_every_node_holds_every_statement": took,
                   "converged_within_30s": took is not None and took <= 30})
    return result


def scenario_pause(lab, args):
    result = scenario_connect(lab, args)
    time.sleep(args.warmup)
    rng = random.Random(args.seed)
    before = [((lab.status(i) or {}).get("counters", {}).get("closes", {})) for i in range(lab.n)]
    end = time.monotonic() + args.duration
    pauses = 0
    while time.monotonic() < end:
        victims = rng.sample(range(lab.n), max(1, lab.n // 10))
        for v in victims:
            lab.processes[v].send_signal(signal.SIGSTOP)
        time.sleep(1.5)
        for v in victims:
            lab.processes[v].send_signal(signal.SIGCONT)
        pauses += len(victims)
        time.sleep(max(0.0, min(28.5, end - time.monotonic())))
    after = [((lab.status(i) or {}).get("counters", {}).get("closes", {})) for i in range(lab.n)]
    idle = sum(a.get("idle_timeout", 0) - b.get("idle_timeout", 0) for a, b in zip(after, before))
    result.update({"pauses": pauses, "duration_seconds": args.duration, "sessions_closed_for_idleness": idle,
                   "peers_min_after": min(lab.peer_counts())})
    return result


SCENARIOS = {"connect": scenario_connect, "restart": scenario_restart, "propagation": scenario_propagation,
             "partition": scenario_partition, "pause": scenario_pause}


def build():
    for product in ("chorusd", "chorus"):
        subprocess.run(["swift", "build", "-c", "release", "--product", product], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    return (os.path.join(ROOT, ".build/release/chorusd"), os.path.join(ROOT, ".build/release/chorus"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario")
    run.add_argument("scenario", choices=sorted(SCENARIOS))
    run.add_argument("--nodes", type=int, default=20)
    run.add_argument("--delay-ms", type=float, default=20.0, help="one-way delay of every link (relay)")
    run.add_argument("--loss-permille", type=int, default=5, help="packets dropped per 1000 (nftables)")
    run.add_argument("--messages", type=int, default=20)
    run.add_argument("--size", type=int, default=1024)
    run.add_argument("--warmup", type=float, default=10.0)
    run.add_argument("--timeout", type=float, default=120.0)
    run.add_argument("--partition-seconds", type=float, default=60.0)
    run.add_argument("--duration", type=float, default=120.0, help="pause scenario length in seconds")
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--keep", action="store_true", help="keep the work directory")
    run.add_argument("--json", action="store_true")
    sub.add_parser("clean", help="remove every lab namespace, the bridge and lab processes")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("lab: needs root (network namespaces)")
    if args.command == "clean":
        clean()
        return
    if shutil.which("nft") is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "nftables"], check=True, stdout=subprocess.DEVNULL)
    binaries = build()
    work = tempfile.mkdtemp(prefix="chorus-lab-")
    lab = Lab(args.nodes, args.delay_ms, args.loss_permille, work, binaries)
    started = time.monotonic()
    try:
        lab.setup()
        result = SCENARIOS[args.scenario](lab, args)
        result.update({"scenario": args.scenario, "wall_seconds": round(time.monotonic() - started, 1), "work": work})
    finally:
        lab.stop_all()
        clean()
        lab.metrics.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        for key in sorted(result):
            print(f"{key}: {result[key]}")


if __name__ == "__main__":
    main()
