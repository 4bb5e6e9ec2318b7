"""The named scenarios. Each runs inside a started Lab and returns (results, targets).

connect      time until every node has >= --min-peers sessions
restart      kill -9 a node, restart it without seeds, time until >= --min-peers (target 2 s)
partition    two halves cut apart for --partition-s, healed; time until cross-half sessions return
propagation  messages published from random nodes; latency percentiles, delivery, duplicates
pause        --pause-fraction of the nodes SIGSTOPped for --pause-s every --period-s; sessions lost,
             and SWIM false deaths (a node declared dead while it was only paused; target 0)
crash        kill -9 --kills nodes one at a time; time until every other node's SWIM reports the victim
             dead (p50 <= 5 s, p99 <= 8 s across all observers)
starve       a CPU hog (--hog-procs busy loops) holds the load >= --load-target for --duration-s while
             messages are published: SWIM false deaths and links closed by SWIM (target 0 each),
             propagation latency and delivery under starvation, the load reached
"""

import collections
import concurrent.futures
import json
import os
import time

from . import control, faults, metrics, topology
from .lab import cpu_between, log
from .report import check


def _summary(values, digits=3):
    if not values:
        return None
    return {"n": len(values), "p50": round(metrics.percentile(values, 50), digits),
            "p99": round(metrics.percentile(values, 99), digits), "max": round(max(values), digits)}


def _peer_counts(snap):
    return [r["peers"] for r in snap.values() if r.get("ok")]


def _mesh_summary(snap):
    counts = _peer_counts(snap)
    rtts = [r["rtt_ms_p50"] for r in snap.values() if r.get("ok") and r.get("rtt_ms_p50") is not None]
    return {"peers_min": min(counts, default=None), "peers_avg": round(sum(counts) / len(counts), 1) if counts else None,
            "peers_max": max(counts, default=None),
            "rtt_ms_p50_of_nodes": round(metrics.percentile(rtts, 50), 2) if rtts else None}


def _closes(snap):
    """Sum of every node's close counters, by reason."""
    total = collections.Counter()
    for r in snap.values():
        if r.get("ok"):
            total.update(r["counters"].get("closes", {}))
    return total


def min_peers(lab, o):
    """--min-peers, or n - 1 in a lab too small for it."""
    return min(o.min_peers, lab.n - 1)


def wait_connected(lab, o, label="mesh"):
    """Waits until every node has >= min_peers; returns {node: unix time it first had them}."""
    reached = {}
    need = min_peers(lab, o)

    def all_reached(snap):
        for i, r in snap.items():
            if r.get("ok") and r["peers"] >= need and i not in reached:
                reached[i] = r["t"]
        return len(reached) == lab.n
    done = lab.wait_until(all_reached, o.connect_timeout_s)
    if done is None:
        log(f"{label}: only {len(reached)}/{lab.n} nodes reached {need} peers in {o.connect_timeout_s} s")
    else:
        log(f"{label}: every node has >= {need} peers ({done - lab.first_start:.1f} s after the first start)")
    return reached


# -- connect --------------------------------------------------------------------------------------

def connect(lab, o):
    reached = wait_connected(lab, o)
    per_node = [reached[i] - lab.nodes[i].started_at for i in reached]
    everyone = max(reached.values()) - lab.first_start if len(reached) == lab.n else None
    # Steady state: what an idle, connected mesh costs (keepalives, gossip heartbeats, sync).
    steady_before = lab.resources()
    time.sleep(o.hold_s)
    steady = lab.resources()
    cpu = cpu_between(steady_before, steady)
    relay_cpu = steady.get("relay_cpu_s", 0) - steady_before.get("relay_cpu_s", 0)
    results = {
        "start_all_processes_s": round(lab.all_started - lab.first_start, 2),
        "nodes_with_min_peers": f"{len(reached)}/{lab.n}",
        "all_min_peers_after_first_start_s": round(everyone, 2) if everyone is not None else None,
        "all_min_peers_after_last_start_s": round(max(reached.values()) - lab.all_started, 2) if everyone else None,
        "node_start_to_min_peers_s": _summary(per_node, 2),
        "poll_resolution_s": o.poll_s,
        **_mesh_summary(lab.poller.snapshot()),
        "steady_state_s": o.hold_s,
        "steady_cpu_pct_all_nodes": round(100 * cpu / o.hold_s, 1) if o.hold_s else None,
        "steady_cpu_pct_per_node": round(100 * cpu / o.hold_s / lab.n, 2) if o.hold_s else None,
        "steady_relay_cpu_pct": round(100 * relay_cpu / o.hold_s, 1) if o.hold_s and lab.relay else None,
        "steady_rss_mb_avg": steady["rss_mb_avg"], "steady_rss_mb_max": steady["rss_mb_max"],
        "steady_loadavg_1m": steady["loadavg_1m"],
    }
    return results, {"all_nodes_min_peers_s": check(results["all_min_peers_after_last_start_s"], o.connect_target_s, never_reached=True)}


# -- restart --------------------------------------------------------------------------------------

def restart(lab, o):
    wait_connected(lab, o)
    need = min_peers(lab, o)
    order = list(lab.nodes)
    lab.rng.shuffle(order)
    trials = []
    for i in order[: o.restarts]:
        node = lab.nodes[i]
        before = lab.poller.snapshot().get(i, {}).get("peers")
        node.kill9()
        time.sleep(o.down_s)
        node.start(seeds=[])
        t0 = node.started_at
        trial = {"node": i, "peers_before": before, "control_up_s": None, "first_peer_s": None, "min_peers_s": None}
        while time.time() - t0 < o.restart_timeout_s:
            try:
                status = node.status(timeout=0.3)
            except (OSError, ValueError, control.ControlError):
                time.sleep(0.01)
                continue
            now = time.time() - t0
            trial["control_up_s"] = trial["control_up_s"] or round(now, 3)
            if status["peer_count"] >= 1 and trial["first_peer_s"] is None:
                trial["first_peer_s"] = round(now, 3)
            if status["peer_count"] >= need:
                trial["min_peers_s"] = round(now, 3)
                break
            time.sleep(0.02)
        trials.append(trial)
        log(f"restart node {i}: control up {trial['control_up_s']} s, first peer {trial['first_peer_s']} s, "
            f">= {need} peers {trial['min_peers_s']} s")
        time.sleep(o.gap_s)
    times = [t["min_peers_s"] for t in trials if t["min_peers_s"] is not None]
    results = {
        "restarts": len(trials),
        "reached_min_peers": f"{len(times)}/{len(trials)}",
        "restart_to_min_peers_s": _summary(times),
        "restart_to_control_up_s": _summary([t["control_up_s"] for t in trials if t["control_up_s"] is not None]),
        "restart_to_first_peer_s": _summary([t["first_peer_s"] for t in trials if t["first_peer_s"] is not None]),
        "trials": trials,
    }
    worst = max(times) if len(times) == len(trials) and times else None
    return results, {"restart_min_peers_max_s": check(worst, o.restart_target_s, never_reached=bool(trials))}


# -- partition ------------------------------------------------------------------------------------

def partition(lab, o):
    wait_connected(lab, o)
    need = min_peers(lab, o)
    half = lab.n // 2
    if o.split == "random":
        side_a = set(lab.rng.sample(sorted(lab.nodes), half))
    else:  # index: nodes 1..n/2 (with every seed) against the later half
        side_a = set(range(1, half + 1))
    side_b = set(lab.nodes) - side_a

    def cross(snap):
        return sum(1 for i in side_a if snap.get(i, {}).get("ok")
                   for j in snap[i]["peer_nodes"] if j in side_b)

    def sample(label, t_ref):
        snap = lab.poller.snapshot()
        counts = _peer_counts(snap)
        point = {"t": round(time.time() - t_ref, 1), "phase": label, "cross_sessions": cross(snap),
                 "peers_min": min(counts, default=None), "peers_avg": round(sum(counts) / max(1, len(counts)), 1)}
        timeline.append(point)
        return point

    timeline = []
    before = sample("before", time.time())["cross_sessions"]
    for i in side_a:
        lab.faults[i].cut, lab.faults[i].cut_mode = {topology.node_ip(j) for j in side_b}, o.partition_mode
    for j in side_b:
        lab.faults[j].cut, lab.faults[j].cut_mode = {topology.node_ip(i) for i in side_a}, o.partition_mode
    t_cut = time.time()
    faults.apply_all([lab.faults[i] for i in lab.nodes])
    log(f"partition: {len(side_a)} | {len(side_b)} nodes ({o.partition_mode}), {before} cross sessions before, "
        f"applied in {time.time() - t_cut:.1f} s")
    cross_gone = None
    statements = set()   # statement ids published during the cut, on both sides
    next_publish = t_cut
    while time.time() < t_cut + o.partition_s:
        point = sample("cut", t_cut)
        if point["cross_sessions"] == 0 and cross_gone is None:
            cross_gone = point["t"]
        while o.partition_publish_s > 0 and time.time() >= next_publish:
            author = lab.rng.choice(sorted(lab.nodes))
            try:
                answer = control.call(lab.nodes[author].control_socket, "publish",
                                      {"topic": o.topic, "data": f"partition {len(statements)} from node {author}"})
                statements.add(answer["statement_id"])
            except (OSError, ValueError, control.ControlError) as error:
                log(f"publish on node {author} failed: {error}")
            next_publish += o.partition_publish_s
        time.sleep(o.poll_s)
    during = lab.poller.snapshot()
    for f in lab.faults.values():
        f.cut = set()
    t_heal = time.time()
    faults.apply_all(lab.faults.values())
    log(f"healed after {t_heal - t_cut:.1f} s; cross sessions at the heal: {cross(during)}; "
        f"{len(statements)} statements published during the cut")
    first_cross = restored = all_min = converged = None
    target_cross = max(1, round(before * o.restore_fraction))
    next_store_check = time.time()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        while time.time() < t_heal + o.heal_timeout_s:
            point = sample("healed", t_heal)
            if point["cross_sessions"] >= 1 and first_cross is None:
                first_cross = point["t"]
            if point["cross_sessions"] >= target_cross and restored is None:
                restored = point["t"]
            if point["peers_min"] is not None and point["peers_min"] >= need and all_min is None:
                all_min = point["t"]
            if statements and converged is None and time.time() >= next_store_check:
                checked_at = round(time.time() - t_heal, 1)
                stores = list(pool.map(lambda node: node.statement_ids(), lab.nodes.values()))
                complete = sum(1 for ids in stores if ids is not None and statements <= ids)
                identical = all(ids is not None and ids == stores[0] for ids in stores)
                point["stores_complete"] = complete
                if identical and complete == lab.n:
                    converged = checked_at
                next_store_check = time.time() + o.store_check_s
            if restored is not None and all_min is not None and (converged is not None or not statements):
                break
            time.sleep(o.poll_s)
    after = timeline[-1]["cross_sessions"]
    with open(os.path.join(lab.work, "partition-timeline.jsonl"), "w") as f:
        f.writelines(json.dumps(p) + "\n" for p in timeline)
    results = {
        "sides": [len(side_a), len(side_b)], "split": o.split,
        "partition_s": o.partition_s, "mode": o.partition_mode,
        "cross_sessions_before": before,
        "cross_sessions_gone_after_cut_s": cross_gone,
        "cross_sessions_at_heal": cross(during),
        "peers_min_during_cut": min((p["peers_min"] for p in timeline if p["phase"] == "cut" and p["peers_min"] is not None), default=None),
        "first_cross_session_after_heal_s": first_cross,
        "cross_sessions_restored_after_heal_s": restored,
        "restore_threshold_sessions": target_cross,
        "all_nodes_min_peers_after_heal_s": all_min,
        "cross_sessions_at_end": after,
        "statements_published_during_cut": len(statements),
        "stores_identical_after_heal_s": converged,
        "store_check_interval_s": o.store_check_s,
        "timeline": "partition-timeline.jsonl",
    }
    return results, {"heal_connections_s": check(restored, o.heal_target_s, never_reached=True),
                     "heal_identical_stores_s": check(converged, o.heal_target_s, never_reached=bool(statements))}


# -- propagation ----------------------------------------------------------------------------------

def _payload(k, size, rng):
    head = f"lab-{k:05d}-"
    return head + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(max(0, size - len(head))))


def _messages(node, topic):
    """Every message the node delivered on `topic` (the `messages` method, paged)."""
    out, since = [], 0
    while True:
        page = control.call(node.control_socket, "messages", {"topic": topic, "since": str(since), "limit": "1000"},
                            timeout=5)
        out += page
        if len(page) < 1000:
            return out
        since = page[-1]["index"] + 1


def _gossip_totals(snap):
    return {key: sum(r.get("gossip", {}).get(key, 0) for r in snap.values() if r.get("ok"))
            for key in ("delivered", "duplicates", "invalid")}


def _missed_detail(lab, mid, author, i):
    """What a node that did not deliver a message knows of it (`trace`: receipts), and its peers."""
    detail = {"id": mid[:16], "author": author, "node": i,
              "node_peers": lab.poller.snapshot().get(i, {}).get("peer_nodes")}
    try:
        detail["trace"] = control.call(lab.nodes[i].control_socket, "trace", {"id": mid}, timeout=2)
    except (OSError, ValueError, control.ControlError) as error:
        detail["trace_error"] = str(error)
    return detail


def _deliveries(lab, topic, published):
    """Every other node's delivery of each published (gossip id, author) message: the latencies (ms,
    from the author's own delivery; all namespaces share one clock), the deliveries missing, those
    later than 2 s, and details of up to 20 missing ones."""
    received = {}    # (id, node) -> unix ns
    for i, node in lab.nodes.items():
        try:
            for m in _messages(node, topic):
                received[(m["id"], i)] = m["received_unix_ns"]
        except (OSError, ValueError, control.ControlError) as error:
            log(f"messages from node {i} failed: {error}")
    latencies, missing, late, missed = [], 0, 0, []
    for mid, author in published:
        t0 = received.get((mid, author))
        for i in lab.nodes:
            if i == author:
                continue
            t = received.get((mid, i))
            if t is None or t0 is None:
                missing += 1
                if len(missed) < 20:
                    missed.append(_missed_detail(lab, mid, author, i))
                continue
            latencies.append((t - t0) / 1e6)
            late += (t - t0) > 2e9
    return latencies, missing, late, missed


def propagation(lab, o):
    wait_connected(lab, o)
    log(f"warming up the gossip mesh for {o.warmup_s} s")
    time.sleep(o.warmup_s)
    before = _gossip_totals(lab.poller.snapshot())
    published = []   # (gossip id, author node)
    t_begin = time.time()
    for k in range(o.messages):
        author = lab.rng.choice(sorted(lab.nodes))
        try:
            answer = control.call(lab.nodes[author].control_socket, "publish",
                                  {"topic": o.topic, "data": _payload(k, o.size, lab.rng)}, timeout=2)
            published.append((answer["id"], author))
        except (OSError, ValueError, control.ControlError) as error:
            log(f"publish {k} on node {author} failed: {error}")
        time.sleep(max(0.0, t_begin + (k + 1) / o.rate - time.time()))
    log(f"published {len(published)} messages of {o.size} B at {o.rate}/s; settling {o.settle_s} s")
    time.sleep(o.settle_s + o.poll_s * 2)
    after = _gossip_totals(lab.poller.snapshot())
    latencies, missing, late, missed = _deliveries(lab, o.topic, published)
    pairs = len(published) * (lab.n - 1)
    duplicates = after["duplicates"] - before["duplicates"]
    dup_per = round(duplicates / pairs, 3) if pairs else None
    within = round((pairs - missing - late) / pairs, 5) if pairs else None
    with open(os.path.join(lab.work, "latencies-ms.json"), "w") as f:
        json.dump(sorted(round(x, 2) for x in latencies), f)
    results = {
        "messages": len(published), "message_bytes": o.size, "rate_per_s": o.rate,
        "delay_ms": o.delay_ms, "jitter_ms": o.jitter_ms, "loss_pct": o.loss_pct,
        "deliveries_expected": pairs, "missing": missing, "later_than_2s": late,
        "delivered_within_2s_fraction": within,
        "missed": missed,
        "latency_ms": _summary(latencies, 1),
        "duplicates_total": duplicates, "duplicates_per_message_per_node": dup_per,
        "invalid_total": after["invalid"] - before["invalid"],
        **_mesh_summary(lab.poller.snapshot()),
    }
    p = results["latency_ms"] or {}
    return results, {
        "latency_p50_ms": check(p.get("p50"), 100, never_reached=bool(published)),
        "latency_p99_ms": check(p.get("p99"), 250, never_reached=bool(published)),
        "delivered_within_2s": check(within, 1.0, lower_is_better=False),
        "duplicates_per_message_per_node": check(dup_per, 1.5),
    }


# -- pause ----------------------------------------------------------------------------------------

def pause(lab, o):
    wait_connected(lab, o)
    need = min_peers(lab, o)
    start_snap = lab.poller.snapshot()
    closes_before = _closes(start_snap)
    handshakes_before = sum(r["counters"].get("handshakes_completed", 0) for r in start_snap.values() if r.get("ok"))
    t_start = time.time()
    count = max(1, round(lab.n * o.pause_fraction))
    rounds = 0
    paused_ever = set()
    # SWIM: deaths declared so far (every one during this run is false: nobody is killed), and a
    # watcher that records every (observer, member) pair seen dead, with the member's pause state.
    deaths_before = _swim_totals(lab)
    watcher = _DeathWatcher(lab)
    watcher.start()
    while time.time() < t_start + o.duration_s:
        chosen = lab.rng.sample(sorted(lab.nodes), count)
        round_start = time.time()
        for i in chosen:
            lab.nodes[i].pause()
        time.sleep(o.pause_s)
        for i in chosen:
            lab.nodes[i].resume()
        paused_ever.update(chosen)
        rounds += 1
        log(f"pause round {rounds}: {count} nodes stopped for {o.pause_s} s")
        time.sleep(max(0.0, min(round_start + o.period_s, t_start + o.duration_s) - time.time()))
    time.sleep(o.poll_s * 2)
    watcher.stop()
    deaths_after = _swim_totals(lab)
    end_snap = lab.poller.snapshot()
    closes = _closes(end_snap) - closes_before
    handshakes = sum(r["counters"].get("handshakes_completed", 0) for r in end_snap.values() if r.get("ok")) - handshakes_before
    # Lowest peer count of each node during the run, from the metrics file.
    lowest = {}
    with open(os.path.join(lab.work, "metrics.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if r["t"] >= t_start and r.get("ok"):
                lowest[r["node"]] = min(lowest.get(r["node"], 1 << 30), r["peers"])
    results = {
        "duration_s": o.duration_s, "rounds": rounds, "paused_per_round": count, "pause_s": o.pause_s,
        "sessions_closed": sum(closes.values()), "closes_by_reason": dict(closes),
        "handshakes_during_run": handshakes,
        "lowest_peers_any_node": min(lowest.values(), default=None),
        "nodes_below_min_peers": sum(1 for v in lowest.values() if v < need),
        "swim_deaths_declared": _diff(deaths_after, deaths_before, "deaths_declared"),
        "swim_suspicions_raised": _diff(deaths_after, deaths_before, "suspicions_raised"),
        "swim_refutations": _diff(deaths_after, deaths_before, "refutations"),
        "swim_nodes_seen_dead": sorted(watcher.victims),
        "swim_dead_observations": len(watcher.pairs),
    }
    lost = closes.get("idle_timeout", 0) + closes.get("peer_closed", 0) + closes.get("connection_failed", 0)
    false_deaths = None if deaths_after is None or deaths_before is None else \
        max(results["swim_deaths_declared"], len(watcher.victims))
    return results, {"sessions_lost_to_pauses": check(lost, 0), "swim_false_deaths": check(false_deaths, 0)}


def _swim_totals(lab, timeout=2.0, attempts=1):
    """Sum of every node's SWIM counters (deaths declared, suspicions, refutations), or None when a
    node does not answer (each node is asked up to `attempts` times)."""
    totals = collections.Counter()
    for node in lab.nodes.values():
        for attempt in range(attempts):
            try:
                m = node.members(timeout=timeout)
                break
            except (OSError, ValueError, control.ControlError):
                if attempt == attempts - 1:
                    return None
        for k in ("deaths_declared", "suspicions_raised", "refutations"):
            totals[k] += m.get(k, 0)
    return totals


def _diff(after, before, key):
    return None if after is None or before is None else after[key] - before[key]


class _DeathWatcher:
    """Polls every node's `members` in a thread; remembers which nodes anyone reported dead, and
    each node's highest Lifeguard local health multiplier seen."""

    def __init__(self, lab, interval_s=0.5, timeout_s=0.3):
        import threading
        self.lab, self.interval_s, self.timeout_s = lab, interval_s, timeout_s
        self.pairs, self.victims = set(), set()
        self.health_max = {}     # node -> highest local_health seen
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._key_to_node = {}

    def start(self):
        self._key_to_node = {n.public_key: i for i, n in self.lab.nodes.items()}
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            for i, node in list(self.lab.nodes.items()):
                if node.paused:
                    continue
                try:
                    answer = node.members(timeout=self.timeout_s)
                except (OSError, ValueError, control.ControlError):
                    continue
                self.health_max[i] = max(self.health_max.get(i, 0), answer.get("local_health", 0))
                for m in answer["members"]:
                    if m["state"] == "dead" and m["public_key"] in self._key_to_node:
                        self.pairs.add((i, m["public_key"]))
                        self.victims.add(self._key_to_node[m["public_key"]])
            self.rounds += 1
            self._stop.wait(self.interval_s)


# -- membership (SWIM) ----------------------------------------------------------------------------

def _members(node, timeout=0.5):
    """{public key: state} from a node's `members`, or None when it does not answer."""
    try:
        return {m["public_key"]: m["state"] for m in node.members(timeout=timeout)["members"]}
    except (OSError, ValueError, control.ControlError):
        return None


def wait_members(lab, o, timeout_s=60):
    """Waits until every node knows every other as alive (SWIM converged); returns the seconds it took."""
    t0 = time.time()
    keys = {i: n.public_key for i, n in lab.nodes.items()}
    while time.time() - t0 < timeout_s:
        done = 0
        for i, node in lab.nodes.items():
            view = _members(node)
            if view and all(view.get(k) == "alive" for j, k in keys.items() if j != i):
                done += 1
        if done == len(lab.nodes):
            return round(time.time() - t0, 2)
        time.sleep(0.5)
    log(f"membership did not converge within {timeout_s} s")
    return None


def crash(lab, o):
    wait_connected(lab, o)
    converged = wait_members(lab, o)
    log(f"membership converged in {converged} s")
    order = sorted(lab.nodes)
    lab.rng.shuffle(order)
    victims = order[: min(o.kills, lab.n - 2)]
    alive = set(lab.nodes)
    detections = []
    trials = []
    false_deaths = 0
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=16)
    for v in victims:
        victim = lab.nodes[v]
        key = victim.public_key
        alive.discard(v)
        victim.kill9()
        t0 = time.time()
        pending = set(alive)
        seen = {}
        while pending and time.time() - t0 < o.detect_timeout_s:
            # Each observer's time is when its answer arrived (not the end of the poll round).
            answers = pool.map(lambda i: (_members(lab.nodes[i], 0.5), time.time() - t0), sorted(pending))
            for i, (view, at) in zip(sorted(pending), answers):
                if view is None:
                    continue
                if view.get(key) == "dead":
                    seen[i] = round(at, 3)
                    pending.discard(i)
                # Any living node declared dead by anyone is a false death.
                false_deaths += sum(1 for j in alive if view.get(lab.nodes[j].public_key) == "dead")
            time.sleep(0.1)
        detections += list(seen.values())
        times = sorted(seen.values())
        trial = {"node": v, "observers": len(alive), "detected_by": len(seen),
                 "first_s": times[0] if times else None, "all_s": times[-1] if len(seen) == len(alive) else None,
                 "p50_s": round(metrics.percentile(times, 50), 3) if times else None}
        trials.append(trial)
        log(f"crash node {v}: dead at {len(seen)}/{len(alive)} observers; first {trial['first_s']} s, "
            f"p50 {trial['p50_s']} s, all {trial['all_s']} s")
        time.sleep(o.crash_gap_s)
    pool.shutdown()
    missed = sum(t["observers"] - t["detected_by"] for t in trials)
    summary = _summary(detections)
    results = {"kills": len(trials), "membership_converged_s": converged, "detection_s": summary,
               "observations_missed": missed, "false_death_observations": false_deaths, "trials": trials}
    p50 = summary["p50"] if summary and missed == 0 else None
    p99 = summary["p99"] if summary and missed == 0 else None
    return results, {"crash_detection_p50_s": check(p50, o.crash_p50_target_s, never_reached=True),
                     "crash_detection_p99_s": check(p99, o.crash_p99_target_s, never_reached=True),
                     "crash_false_deaths": check(false_deaths, 0)}


# -- starve (CPU starvation) ----------------------------------------------------------------------

class _LoadSampler:
    """Samples os.getloadavg() every second in a thread; each sample carries the scenario's phase."""

    def __init__(self, interval_s=1.0):
        import threading
        self.interval_s = interval_s
        self.phase = "before"
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            one, five, _ = os.getloadavg()
            self.samples.append({"t": round(time.time(), 2), "phase": self.phase,
                                 "load_1m": round(one, 2), "load_5m": round(five, 2)})
            self._stop.wait(self.interval_s)

    def summary(self, *phases):
        values = [s["load_1m"] for s in self.samples if s["phase"] in phases]
        if not values:
            return None
        return {"n": len(values), "min": min(values), "p50": metrics.percentile(values, 50), "max": max(values)}


def _statuses(lab, timeout=5.0, attempts=3):
    """{node: `status` answer}, asking each node directly (not the poller's 0.3 s polls, which a
    starved node may miss); nodes that never answer are left out."""
    out = {}
    for i, node in lab.nodes.items():
        for _ in range(attempts):
            try:
                out[i] = node.status(timeout=timeout)
                break
            except (OSError, ValueError, control.ControlError):
                time.sleep(0.2)
    return out


def _closes_between(before, after):
    """Sessions closed between two `_statuses`, by reason, over the nodes present in both."""
    total = collections.Counter()
    for i in set(before) & set(after):
        b = before[i].get("counters", {}).get("closes", {})
        for reason, n in after[i].get("counters", {}).get("closes", {}).items():
            if n - b.get(reason, 0):
                total[reason] += n - b.get(reason, 0)
    return total


def _publish_for(lab, o, seconds):
    """Publishes a --size message from a random node every 1/--rate s for `seconds`; a slow call does
    not cause a burst (the schedule skips ahead). Returns [(gossip id, author)], failures, call times."""
    published, failed, call_ms = [], 0, []
    t_end = time.time() + seconds
    next_at = time.time()
    k = 0
    while time.time() < t_end:
        author = lab.rng.choice(sorted(lab.nodes))
        began = time.time()
        try:
            answer = control.call(lab.nodes[author].control_socket, "publish",
                                  {"topic": o.topic, "data": _payload(k, o.size, lab.rng)}, timeout=5)
            published.append((answer["id"], author))
            call_ms.append((time.time() - began) * 1000)
        except (OSError, ValueError, control.ControlError) as error:
            failed += 1
            if failed <= 10:
                log(f"publish {k} on node {author} failed: {error}")
        k += 1
        next_at = max(next_at + 1 / o.rate, time.time())
        time.sleep(max(0.0, min(next_at, t_end) - time.time()))
    return published, failed, call_ms


def _lowest_peers(lab, t_from, t_to):
    """Each node's lowest peer count in metrics.jsonl between two times (answered polls only)."""
    lowest = {}
    with open(os.path.join(lab.work, "metrics.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if t_from <= r["t"] <= t_to and r.get("ok"):
                lowest[r["node"]] = min(lowest.get(r["node"], 1 << 30), r["peers"])
    return lowest


def starve(lab, o):
    """Nobody is killed or paused: the only fault is a CPU hog. Any SWIM death is false, and any
    session closed as `member_dead` was closed because of a false death."""
    wait_connected(lab, o)
    converged = wait_members(lab, o, timeout_s=o.connect_timeout_s)
    log(f"membership converged in {converged} s")
    sampler = _LoadSampler()
    sampler.start()
    log(f"warming up the gossip mesh for {o.warmup_s} s")
    time.sleep(o.warmup_s)
    swim_before = _swim_totals(lab, timeout=5.0, attempts=3)
    status_before = _statuses(lab)
    watcher = _DeathWatcher(lab, interval_s=1.0, timeout_s=1.0)
    watcher.start()
    resources_before = lab.resources()
    load_at_start = round(os.getloadavg()[0], 2)
    t_hog = time.time()
    sampler.phase = "ramp"
    lab.start_hog(o.hog_procs)
    # The 1-minute load average follows the hog with a 1-minute time constant: the measured period
    # starts once it has reached --load-target (or after --hog-ramp-s, reported as not reached).
    while time.time() - t_hog < o.hog_ramp_s and os.getloadavg()[0] < o.load_target:
        time.sleep(1)
    ramp_s = round(time.time() - t_hog, 1)
    reached = os.getloadavg()[0] >= o.load_target
    log(f"load {os.getloadavg()[0]:.2f} after {ramp_s} s of hog "
        f"({'reached' if reached else 'below'} {o.load_target}); publishing at {o.rate}/s for {o.duration_s} s")
    sampler.phase = "hog"
    t_window = time.time()
    published, publish_failed, publish_ms = _publish_for(lab, o, o.duration_s)
    t_stop = time.time()
    resources_hog = lab.resources()
    lab.stop_hog()
    sampler.phase = "settle"
    log(f"published {len(published)} messages ({publish_failed} failed); watching SWIM and deliveries "
        f"for {o.hog_settle_s} s after the hog")
    time.sleep(o.hog_settle_s)
    watcher.stop()
    t_end = time.time()
    swim_after = _swim_totals(lab, timeout=5.0, attempts=3)
    status_after = _statuses(lab)
    sampler.stop()
    closes = _closes_between(status_before, status_after)
    unread = sorted(set(lab.nodes) - (set(status_before) & set(status_after)))
    links_closed = None if unread else closes.get("member_dead", 0)
    duplicates = sum(status_after[i].get("duplicates", 0) - status_before[i].get("duplicates", 0)
                     for i in set(status_before) & set(status_after))
    latencies, missing, late, missed = _deliveries(lab, o.topic, published)
    pairs = len(published) * (lab.n - 1)
    lowest = _lowest_peers(lab, t_hog, t_end)
    with open(os.path.join(lab.work, "load.jsonl"), "w") as f:
        f.writelines(json.dumps(s) + "\n" for s in sampler.samples)
    with open(os.path.join(lab.work, "latencies-ms.json"), "w") as f:
        json.dump(sorted(round(x, 2) for x in latencies), f)
    hog_s = t_stop - t_hog
    cpu = cpu_between(resources_before, resources_hog)
    deaths = _diff(swim_after, swim_before, "deaths_declared")
    false_deaths = None if deaths is None else max(deaths, len(watcher.victims))
    load = sampler.summary("hog")
    results = {
        "hog_procs": o.hog_procs, "hog_s": round(hog_s, 1), "hog_ramp_s": ramp_s,
        "load_target_reached_in_ramp": reached, "measured_s": round(t_stop - t_window, 1),
        "load_1m_at_hog_start": load_at_start,
        "load_1m_during_measured": load,
        "load_1m_during_ramp": sampler.summary("ramp"),
        "node_cpu_pct_all_nodes_during_hog": round(100 * cpu / hog_s, 1),
        "membership_converged_s": converged,
        "swim_deaths_declared": deaths,
        "swim_nodes_seen_dead": sorted(watcher.victims),
        "swim_dead_observations": len(watcher.pairs),
        "swim_suspicions_raised": _diff(swim_after, swim_before, "suspicions_raised"),
        "swim_refutations": _diff(swim_after, swim_before, "refutations"),
        "swim_local_health_max": max(watcher.health_max.values(), default=None),
        "swim_nodes_local_health_raised": sum(1 for v in watcher.health_max.values() if v > 0),
        "death_watch_rounds": watcher.rounds,
        "links_closed_by_swim": links_closed,
        "sessions_closed": sum(closes.values()), "closes_by_reason": dict(closes),
        "nodes_unreadable": unread,
        "lowest_peers_any_node": min(lowest.values(), default=None),
        "nodes_below_min_peers": sum(1 for v in lowest.values() if v < min_peers(lab, o)),
        "messages": len(published), "publish_failed": publish_failed, "rate_per_s": o.rate,
        "message_bytes": o.size, "publish_call_ms": _summary(publish_ms, 1),
        "deliveries_expected": pairs, "missing": missing,
        "delivered_fraction": round((pairs - missing) / pairs, 5) if pairs else None,
        "later_than_2s": late,
        "delivered_within_2s_fraction": round((pairs - missing - late) / pairs, 5) if pairs else None,
        "latency_ms": _summary(latencies, 1),
        "duplicates_per_message_per_node": round(duplicates / pairs, 3) if pairs else None,
        "missed": missed,
        "timeline": "load.jsonl",
    }
    return results, {"swim_false_deaths": check(false_deaths, 0),
                     "links_closed_by_swim": check(links_closed, 0),
                     "hog_load_1m_min": check(load["min"] if load else None, o.load_target, lower_is_better=False)}


SCENARIOS = {"connect": connect, "restart": restart, "partition": partition, "propagation": propagation,
             "pause": pause, "crash": crash, "starve": starve}
