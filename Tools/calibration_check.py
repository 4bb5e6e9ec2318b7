#!/usr/bin/env python3
"""Unified-multiplier check (slow tier): two nodes on exactly the same hardware, one serving
chorus/synthetic-devnet and one serving SmolLM2-135M, must end with consensus weights within
10 % of each other once `chorus worker calibrate` has set the models' weight_scale_factors.

    Tools/calibration-check.sh [--epochs 4] [--cores 0,1] [--dir DIR] [--json]

Same hardware:
  * node 1 (synthetic model only) is pinned to one core and node 2 (SmolLM2 only) to another
    (`chorusd devnet --cpus`, i.e. taskset: every thread of the process), with
    OPENBLAS_NUM_THREADS=1, so each node computes single-threaded on a core of its own;
  * the calibration measures both models the same way, pinned and single-threaded too, in two
    concurrent rounds with the cores swapped (round 1: synthetic on core A, SmolLM2 on core B;
    round 2 the other way round), so a difference between the cores, or load from elsewhere on
    the machine, weighs on both models alike; within a round both measure the same interval
    (`chorus worker calibrate --start-at`, after loading and a warm-up batch), as the two nodes
    compute side by side in a PoC window. A model's rate is the mean of its two rounds;
    factor = rate(SmolLM2) / rate(model) (SmolLM2, the network's initial model, is the base: 1).

The network file is Network/devnet/network.toml with: the measured factors; only the first two
genesis participants (nodes 1 and 2, equal genesis weight); the stage lengths below; and the two
rules that would otherwise pull the weights together whatever the calibration, switched off so
the consensus weight is exactly the calibrated PoC contribution: the per-participant cap
(max_participant_share = 0; with two participants its floor of 1/2 would cut the larger weight
to the smaller) and the delegation share (delegation_share = 0; each delegator would hand 5 % of
its weight to the other).

Epochs: in epoch 1 each model's only server holds 1/2 of the voting weight (< tau = 2/3), so
nothing is accepted and the genesis weights carry over (weights.md stall rule). During epoch 1
node 1 delegates SmolLM2 to node 2 and node 2 delegates the synthetic model to node 1, so from
epoch 2 each model's server votes with the whole network's power and both entries are accepted.
The check compares the two nodes' consensus weights in every epoch from the first one with the
delegations in force up to --epochs: each epoch must be within --tolerance (default 10 %).

The same hardware also means the same share of it. On a machine other work shares, a pinned
node gets only part of its core whenever other runnable threads land there, and one core can be
busier than the other. So, as root, the calibration and the nodes run in a session (scheduler
autogroup) of their own with nice --nice (default -15), and the check measures the share of its
core each calibration got (`process_cpu_seconds / wall_seconds` of `chorus worker calibrate`)
and samples each node's CPU time (/proc/PID/stat) during every PoC window (generation stage
after the beacon reveals): a calibration or epoch with less than --min-cpu-share (default 0.9)
of its core is reported as contended and the check fails with that reason (the comparison would
not be one of equal hardware). Priority does not shield the shared caches and memory bandwidth:
heavy memory traffic from other work during the calibration still shifts the measured rates. Each node's throughput in the run (committed nonces / PoC window) is reported against
its calibrated rate, which shows whether the calibration measures what the node does.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from devnet_harness import ROOT, SMOL, SYNTH, DevnetHarness, free_port_range, logger

CATALOG = {SYNTH: "synthetic:devnet", SMOL: "smollm2-135m"}
log = logger("calibration-check")


def thread_affinities(pid):
    """{tid: Cpus_allowed_list} for every thread of process pid (empty if it is gone)."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            for line in open(f"/proc/{pid}/task/{tid}/status"):
                if line.startswith("Cpus_allowed_list:"):
                    out[tid] = line.split(":", 1)[1].strip()
        except OSError:
            pass
    return out


def cpu_seconds(pid):
    """User + system CPU seconds of process pid (all its threads), None if it is gone."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CPUSampler(threading.Thread):
    """Samples (wall time, CPU seconds) of some processes every 0.25 s."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids = pids
        self.samples = {pid: [] for pid in pids}
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            now = time.time()
            for pid in self.pids:
                value = cpu_seconds(pid)
                if value is not None:
                    self.samples[pid].append((now, value))
            self.halt.wait(0.25)

    def share(self, pid, start, end):
        """CPU seconds / wall seconds of pid over [start, end] (linear between samples)."""
        points = self.samples[pid]
        if not points or points[0][0] > start or points[-1][0] < end:
            return None

        def at(t):
            for (t0, c0), (t1, c1) in zip(points, points[1:]):
                if t0 <= t <= t1:
                    return c0 if t1 == t0 else c0 + (c1 - c0) * (t - t0) / (t1 - t0)
            return points[-1][1]
        return (at(end) - at(start)) / (end - start)


class Check(DevnetHarness):
    def __init__(self, o):
        super().__init__(o.bin, o.dir or tempfile.mkdtemp(prefix="chorus-calibration-check-"),
                         env=dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1"))
        self.o = o
        self.cores = [int(c) for c in o.cores.split(",")]
        self.sampler = None
        self.contended = []
        self.raise_priority = os.geteuid() == 0 and o.nice < 0
        self.results = {"dir": self.dir, "cores": {"node_1_synthetic": self.cores[0], "node_2_smollm2": self.cores[1]},
                        "openblas_num_threads": 1, "generation_ms": o.generation_ms, "tolerance": o.tolerance,
                        "min_cpu_share": o.min_cpu_share,
                        "priority": f"own session, autogroup and process nice {o.nice}" if self.raise_priority
                        else "not raised (needs root and --nice < 0)"}

    def spawn(self, cmd, **kwargs):
        """Starts cmd in a session of its own; as root with --nice < 0, with that nice for the
        process (inherited by its children) and for its scheduler autogroup."""
        if self.raise_priority:
            cmd = ["nice", "-n", str(self.o.nice)] + cmd
        p = subprocess.Popen(cmd, env=self.env, start_new_session=True, **kwargs)
        if self.raise_priority:
            try:
                with open(f"/proc/{p.pid}/autogroup", "w") as f:
                    f.write(str(self.o.nice))
            except OSError:
                pass  # no autogroup scheduling on this kernel: the process nice is what counts
        return p

    # -- calibration ----------------------------------------------------------------------------

    def calibrate(self):
        """Two concurrent rounds, cores swapped; each model pinned to one core, one BLAS thread."""
        rounds = []
        for r, (synth_core, smol_core) in enumerate([(self.cores[0], self.cores[1]), (self.cores[1], self.cores[0])], start=1):
            log(f"calibration round {r}: synthetic on core {synth_core}, SmolLM2 on core {smol_core}, "
                f"{self.o.calibrate_seconds} s each, concurrently")
            running = {}
            # Both measure the same interval (after loading and a warm-up batch), as two nodes
            # compute side by side during a PoC window.
            start_at = time.time() + self.o.calibrate_lead
            for model, core in ((SYNTH, synth_core), (SMOL, smol_core)):
                cmd = ["taskset", "-c", str(core), os.path.join(self.bin, "chorus"), "worker", "calibrate",
                       "--model", CATALOG[model], "--seconds", str(self.o.calibrate_seconds),
                       "--start-at", f"{start_at:.3f}", "--json"]
                running[model] = (core, self.spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            entry = {}
            for model, (core, p) in running.items():
                out, err = p.communicate(timeout=self.o.calibrate_lead + self.o.calibrate_seconds + 300)
                if p.returncode != 0:
                    raise RuntimeError(f"chorus worker calibrate --model {CATALOG[model]} failed ({p.returncode}): {err.strip()}")
                measured = json.loads(out)["models"][0]
                share = measured["process_cpu_seconds"] / measured["wall_seconds"]
                entry[model] = {"core": core, "nonces_per_s": measured["nonces_per_s"], "nonces_done": measured["nonces_done"],
                                "batch_size": measured["batch_size"], "seq_len": measured["seq_len"], "cpu_share": round(share, 3),
                                "measured_from": measured["measured_from"], "wall_seconds": measured["wall_seconds"]}
                if share < self.o.min_cpu_share:
                    self.contended.append(f"calibration round {r} of {model} on core {core}: CPU share {share:.3f}")
            spans = [(e["measured_from"], e["measured_from"] + e["wall_seconds"]) for e in entry.values()]
            overlap = (min(b for _, b in spans) - max(a for a, _ in spans)) / max(b - a for a, b in spans)
            entry["overlap"] = round(overlap, 3)
            if overlap < 0.9:
                self.contended.append(f"calibration round {r}: the two measurements overlapped only {overlap:.0%} "
                                      f"(a model took longer than --calibrate-lead {self.o.calibrate_lead} s to load and warm up)")
            rounds.append(entry)
        rates = {m: sum(r[m]["nonces_per_s"] for r in rounds) / len(rounds) for m in (SYNTH, SMOL)}
        self.results["calibration_rounds_overlap"] = [r["overlap"] for r in rounds]
        factors = {m: round(rates[SMOL] / rates[m], 6) for m in (SYNTH, SMOL)}
        self.rates, self.factors = rates, factors
        self.results["calibration"] = {"rounds": rounds, "nonces_per_s": rates, "weight_scale_factor": factors,
                                       "base_model": SMOL, "seconds_per_round": self.o.calibrate_seconds}
        log(f"rates {', '.join(f'{m}: {v:.1f}/s' for m, v in rates.items())}; factors {factors}")

    def network_file(self):
        text = open(os.path.join(ROOT, "Network/devnet/network.toml")).read()
        for key, value in [("generation_ms", self.o.generation_ms), ("validation_ms", self.o.validation_ms),
                           ("tally_ms", 10000), ("inference_ms", 10000),
                           ("max_participant_share", 0), ("delegation_share", 0)]:
            text, n = re.subn(rf"^{key} = [0-9.]+", f"{key} = {value}", text, flags=re.M)
            if n != 1:
                raise RuntimeError(f"Network/devnet/network.toml has no single '{key}'")
        # Factors.
        head, *models = text.split("[[models]]")
        for i, block in enumerate(models):
            model = re.search(r'^id = "([^"]+)"', block, flags=re.M).group(1)
            if model in self.factors:
                models[i], n = re.subn(r"^weight_scale_factor = .*$", f"weight_scale_factor = {self.factors[model]:.6f}", block, flags=re.M)
                if n != 1:
                    raise RuntimeError(f"model {model} in Network/devnet/network.toml has no single weight_scale_factor")
        text = "[[models]]".join([head] + models)
        # Only the first two genesis participants (the keys of devnet nodes 1 and 2).
        head, *participants = text.split("[[participants]]")
        if len(participants) < 2:
            raise RuntimeError("Network/devnet/network.toml has fewer than two genesis participants")
        text = "[[participants]]".join([head] + participants[:2]).rstrip() + "\n"
        path = os.path.join(self.dir, "template.toml")
        open(path, "w").write(text)
        return path

    # -- the run --------------------------------------------------------------------------------

    def start(self):
        template = self.network_file()
        base = free_port_range(3)
        dn = os.path.join(self.dir, "dn")
        cmd = [os.path.join(self.bin, "chorusd"), "devnet", "--nodes", "2", "--dir", dn, "--base-port", str(base),
               "--network-file", template, "--json", "--interval", "10",
               "--models", f"1:{SYNTH}", "--models", f"2:{SMOL}",
               "--cpus", f"1:{self.cores[0]}", "--cpus", f"2:{self.cores[1]}"]
        log("starting: " + " ".join(cmd[1:]))
        self.devnet = self.spawn(cmd, stdout=open(os.path.join(self.dir, "devnet.jsonl"), "w"),
                                 stderr=open(os.path.join(self.dir, "devnet.err"), "w"))
        self.procs.append(self.devnet)
        self.nodes = [os.path.join(dn, f"node-{i}") for i in (1, 2)]
        self.wait("both nodes answer status", lambda: all(self.json_of(n, "status") for n in self.nodes), 60)
        self.keys = [self.json_of(n, "status")["public_key"] for n in self.nodes]
        self.pids = [self.node_pid(n) for n in self.nodes]
        self.results["affinity_at_start"] = self.affinity_report()
        self.sampler = CPUSampler(self.pids)
        self.sampler.start()
        net = open(os.path.join(dn, "network.toml")).read()
        genesis = re.search(r"^genesis_time = (\S+)", net, flags=re.M).group(1).replace("Z", "+00:00")
        self.genesis = __import__("datetime").datetime.fromisoformat(genesis).timestamp()
        self.reveal_ms = int(re.search(r"^beacon_reveal_ms = (\d+)", net, flags=re.M).group(1))
        self.epoch_ms = sum(int(re.search(rf"^{k} = (\d+)", net, flags=re.M).group(1))
                            for k in ("generation_ms", "validation_ms", "tally_ms", "inference_ms"))

    def node_pid(self, data_dir):
        """The pid of the devnet's `chorusd run --data-dir data_dir` child."""
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
                ppid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == self.devnet.pid and data_dir.encode() in argv:
                return int(pid)
        raise RuntimeError(f"no chorusd process for {data_dir} under the devnet (pid {self.devnet.pid})")

    def affinity_report(self):
        report = {}
        for i, (pid, core) in enumerate(zip(self.pids, self.cores), start=1):
            threads = thread_affinities(pid)
            wrong = sorted({cpus for cpus in threads.values() if cpus != str(core)})
            report[f"node_{i}"] = {"pid": pid, "threads": len(threads), "all_on_core": str(core) if not wrong else None,
                                   "other_affinities": wrong}
        return report

    def delegate(self):
        self.wait("genesis has passed", lambda: (self.json_of(self.nodes[0], "epoch", "show") or {}).get("epoch", 0) >= 1, 90)
        a = json.loads(self.chorus(self.nodes[0], "delegate", SMOL, self.keys[1], "--json").stdout)
        b = json.loads(self.chorus(self.nodes[1], "delegate", SYNTH, self.keys[0], "--json").stdout)
        self.first = max(a["effective_epoch"], b["effective_epoch"])
        log(f"delegations signed in epochs {a['epoch']}/{b['epoch']} (node 1: SmolLM2 -> node 2, node 2: synthetic -> node 1); "
            f"compared from epoch {self.first}")
        self.results["delegations_effective_from_epoch"] = self.first
        if self.first > self.o.epochs:
            raise RuntimeError(f"the delegations take effect in epoch {self.first}, after --epochs {self.o.epochs}")

    def follow(self):
        target = self.o.epochs

        seen = []

        def both_final():
            time.sleep(4)  # few polls: every `chorus` call takes CPU from the pinned nodes
            lasts = [(self.json_of(n, "epoch", "show") or {}).get("last_final_epoch") or 0 for n in self.nodes]
            if not seen or lasts != seen[-1]:
                log(f"last final epoch (node 1, node 2): {lasts} of {target}")
                seen.append(lasts)
            return min(lasts) >= target
        epoch_s = (2000 + self.o.generation_ms + self.o.validation_ms + 20000) / 1000
        self.wait(f"both nodes have epoch {target} final", both_final, int(epoch_s * (target + 1)) + 90)

    def poc_window(self, epoch):
        """Epoch's PoC window in unix seconds: the generation stage after the beacon reveals."""
        start = self.genesis + ((epoch - 1) * self.epoch_ms + self.reveal_ms) / 1000
        return start, self.genesis + ((epoch - 1) * self.epoch_ms + self.o.generation_ms) / 1000

    def verify(self):
        gen_s = (self.o.generation_ms - self.reveal_ms) / 1000
        self.results["poc_window_ms"] = self.o.generation_ms - self.reveal_ms
        epochs, ok, contended = [], True, self.contended
        for epoch in range(1, self.o.epochs + 1):
            shown = [self.json_of(n, "epoch", "show", str(epoch)) or {} for n in self.nodes]
            digests = [s.get("table_digest") for s in shown]
            weights = self.json_of(self.nodes[0], "weights", "--epoch", str(epoch)) or {}
            rows = {p["participant"]: p for p in weights.get("participants", [])}
            nodes = []
            for i, (key, model) in enumerate(zip(self.keys, (SYNTH, SMOL))):
                row = rows.get(key, {})
                served = next((m for m in row.get("models", []) if m["model"] == model), {})
                # A table without model rows (epoch 1: nothing accepted, genesis weights carried
                # over) says nothing about the run's throughput.
                committed = served.get("committed_count")
                rate = committed / gen_s if committed is not None else None
                share = self.sampler.share(self.pids[i], *self.poc_window(epoch))
                nodes.append({"cpu_share_in_poc_window": round(share, 3) if share is not None else None,"node": i + 1, "model": model, "weight": row.get("weight"), "voting_weight": row.get("voting_weight"),
                              "mode": served.get("mode"), "committed": committed, "accepted": served.get("accepted"),
                              "poc_weight": served.get("poc_weight"),
                              "nonces_per_s_in_run": round(rate, 1) if rate is not None else None,
                              "run_rate_over_calibrated": round(rate / self.rates[model], 4) if rate is not None else None})
            entry = {"epoch": epoch, "digests_identical": digests[0] is not None and digests[0] == digests[1],
                     "table_digest": digests[0], "nodes": nodes}
            if epoch >= self.first:
                shares = [n["cpu_share_in_poc_window"] for n in nodes]
                entry["contended"] = any(x is None or x < self.o.min_cpu_share for x in shares)
                if entry["contended"]:
                    contended.append(f"epoch {epoch}: CPU share of node 1 {shares[0]}, node 2 {shares[1]}")
                w1, w2 = nodes[0]["weight"] or 0, nodes[1]["weight"] or 0
                entry["relative_difference"] = round(abs(w1 - w2) / max(w1, w2, 1), 4)
                entry["within_tolerance"] = (w1 > 0 and w2 > 0 and nodes[0]["accepted"] is True and nodes[1]["accepted"] is True
                                             and entry["relative_difference"] <= self.o.tolerance)
                ok = ok and entry["within_tolerance"] and entry["digests_identical"]
            epochs.append(entry)
        compared = [e for e in epochs if e["epoch"] >= self.first]
        w1 = sum(e["nodes"][0]["weight"] or 0 for e in compared) / len(compared)
        w2 = sum(e["nodes"][1]["weight"] or 0 for e in compared) / len(compared)
        mean_diff = abs(w1 - w2) / max(w1, w2, 1)
        self.results["epochs"] = epochs
        self.results["compared_epochs"] = [e["epoch"] for e in compared]
        self.results["mean_weight"] = {"node_1_synthetic": w1, "node_2_smollm2": w2, "relative_difference": round(mean_diff, 4)}
        self.results["max_epoch_relative_difference"] = max(e["relative_difference"] for e in compared)
        self.results["every_epoch_within_tolerance"] = ok
        self.results["affinity_at_end"] = self.affinity_report()
        pinned = all(r["all_on_core"] is not None for rep in (self.results["affinity_at_start"], self.results["affinity_at_end"])
                     for r in rep.values())
        self.results["pinned"] = pinned
        if contended:
            self.results["error"] = ("the machine was too busy for a same-hardware comparison (a node had less than "
                                     f"{self.o.min_cpu_share:.0%} of its core during calibration or PoC): " + "; ".join(contended))
        return ok and pinned and not contended and mean_diff <= self.o.tolerance

    def stop(self):
        if self.sampler:
            self.sampler.halt.set()
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def print_report(results):
    """The human-readable summary of a result object (as printed by --json)."""
    cores = results["cores"]
    cal = results.get("calibration")
    if cal:
        print(f"calibration (1 core, 1 thread each): {', '.join(f'{m}: {r:.1f} nonces/s' for m, r in cal['nonces_per_s'].items())}")
        print(f"weight_scale_factor: {cal['weight_scale_factor']}")

    def cpu(n):
        return "?" if n["cpu_share_in_poc_window"] is None else f"{n['cpu_share_in_poc_window']:.0%}"
    for e in results.get("epochs", []):
        n1, n2 = e["nodes"]
        diff = f"  difference {e['relative_difference']:.1%}" if "relative_difference" in e else "  (not compared)"
        if n1["committed"] is None or n2["committed"] is None:
            print(f"epoch {e['epoch']}: weights {n1['weight']} / {n2['weight']} carried over (no entry accepted){diff}")
            continue
        print(f"epoch {e['epoch']}: node 1 (synthetic, core {cores['node_1_synthetic']}) weight {n1['weight']} from {n1['committed']} nonces "
              f"({n1['run_rate_over_calibrated']:.0%} of calibrated rate, {cpu(n1)} CPU); node 2 (SmolLM2, core {cores['node_2_smollm2']}) "
              f"weight {n2['weight']} from {n2['committed']} nonces ({n2['run_rate_over_calibrated']:.0%}, {cpu(n2)} CPU){diff}")
    if "mean_weight" in results:
        print(f"mean over epochs {results['compared_epochs']}: {results['mean_weight']}")
        print(f"pinned: {results['pinned']}")
    if "error" in results:
        print(f"error: {results['error']}")
    print(f"priority: {results['priority']}")
    print("PASSED" if results.get("passed") else f"FAILED (work dir {results['dir']})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=4, help="last epoch to reach and compare (default 4: epochs 2-4 compared)")
    parser.add_argument("--cores", default="0,1", help="two CPU numbers: node 1's core and node 2's core (default 0,1)")
    parser.add_argument("--generation-ms", type=int, default=30000, help="generation stage (default 30000)")
    parser.add_argument("--validation-ms", type=int, default=10000, help="validation stage (default 10000)")
    parser.add_argument("--calibrate-seconds", type=float, default=20, help="PoC seconds per model and round (default 20)")
    parser.add_argument("--calibrate-lead", type=float, default=10,
                        help="seconds from a round's start to its common measured interval: loading and warm-up (default 10)")
    parser.add_argument("--tolerance", type=float, default=0.10, help="largest relative weight difference (default 0.10)")
    parser.add_argument("--nice", type=int, default=-15,
                        help="as root: nice of the calibration and the nodes, and of their autogroup (default -15; 0: leave as is)")
    parser.add_argument("--min-cpu-share", type=float, default=0.9,
                        help="least share of its core a node must get during PoC for the epoch to count (default 0.9)")
    parser.add_argument("--dir", help="work directory (default: a new temporary one, kept)")
    parser.add_argument("--bin", default=".build/release", help="where chorus and chorusd are (default .build/release)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    o = parser.parse_args()
    try:
        cores = [int(c) for c in o.cores.split(",")]
    except ValueError:
        parser.error(f"--cores {o.cores}: expected two CPU numbers, e.g. 0,1")
    if len(cores) != 2 or cores[0] == cores[1]:
        parser.error(f"--cores {o.cores}: expected two different CPU numbers, e.g. 0,1")
    allowed = os.sched_getaffinity(0)
    if not set(cores) <= allowed:
        parser.error(f"--cores {o.cores}: this process may only run on CPUs {sorted(allowed)}")
    if o.epochs < 2:
        parser.error("--epochs must be at least 2 (epoch 1 bootstraps the delegations)")
    if shutil.which("taskset") is None:
        print("calibration-check: error: taskset (util-linux) not found", file=sys.stderr)
        sys.exit(2)
    for tool in ("chorus", "chorusd"):
        if not os.access(os.path.join(ROOT, o.bin, tool), os.X_OK):
            print(f"calibration-check: error: {os.path.join(o.bin, tool)} not found (swift build -c release --product {tool})", file=sys.stderr)
            sys.exit(2)
    check = Check(o)
    passed = False
    try:
        check.calibrate()
        check.start()
        check.delegate()
        check.follow()
        passed = check.verify()
    except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError, KeyError) as error:
        check.results["error"] = str(error)
        log(f"error: {error}")
    finally:
        check.stop()
    check.results["passed"] = passed
    if o.json:
        print(json.dumps(check.results, indent=1))
    else:
        print_report(check.results)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
