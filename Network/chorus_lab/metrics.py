"""Per-node metrics: a poller asks every node for `status` and `peers` each interval and writes one
JSON line per node and poll to WORK/metrics.jsonl:

    {"t": unix seconds, "node": i, "ok": true, "peers": 14, "inbound": 6, "outbound": 8,
     "connecting": 0, "known": 20, "peer_nodes": [3, 7, ...], "rtt_ms_p50": 40.3, "rtt_ms_max": 44.1,
     "counters": {...}, "gossip": {"mesh_peers", "delivered", "duplicates", "invalid"},
     "rss_kb": 23000, "cpu_s": 1.93}

`ok` is false (with `error`) when a node does not answer, e.g. while it is paused or down.
Scenarios read the latest line of each node from memory (`latest`).
"""

import concurrent.futures
import json
import threading
import time

from . import control


def percentile(values, p):
    """Nearest-rank percentile (p in 0...100) of a non-empty list; None for an empty one."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


class Poller:
    def __init__(self, nodes, path, interval=1.0):
        self.nodes = nodes                    # {i: Node}
        self.interval = interval
        self.file = open(path, "a")
        self.latest = {}                      # i -> last record
        self.key_to_node = {}                 # public key hex -> i
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.pool = concurrent.futures.ThreadPoolExecutor(16)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join()
        self.pool.shutdown()
        self.file.close()

    def _run(self):
        while not self.stopping.is_set():
            began = time.time()
            self.poll_all()
            self.stopping.wait(max(0.0, self.interval - (time.time() - began)))

    def poll_all(self):
        records = list(self.pool.map(self.sample, [n for n in self.nodes.values() if n.process is not None]))
        with self.lock:
            for record in records:
                self.latest[record["node"]] = record
                self.file.write(json.dumps(record, separators=(",", ":")) + "\n")
            self.file.flush()

    def sample(self, node):
        """One record for one node (also used directly for fast polling of a single node)."""
        record = {"t": round(time.time(), 3), "node": node.i}
        stats = node.proc_stats()
        if stats:
            record.update(stats)
        if not node.alive():
            record.update(ok=False, error="not running")
            return record
        try:
            status = node.status(timeout=0.3)
            peers = node.peers(timeout=0.3)
        except (OSError, ValueError, control.ControlError) as error:
            record.update(ok=False, error=str(error) or type(error).__name__)
            return record
        node.public_key = status["public_key"]
        with self.lock:
            self.key_to_node[status["public_key"]] = node.i
            key_to_node = dict(self.key_to_node)
        rtts = [p["rtt_ms"] for p in peers if "rtt_ms" in p]
        record.update(
            ok=True, peers=status["peer_count"], inbound=status["inbound"], outbound=status["outbound"],
            connecting=status["connecting"], known=status["known_addresses"],
            peer_nodes=sorted(key_to_node.get(p["public_key"], 0) for p in peers),
            rtt_ms_p50=percentile(rtts, 50), rtt_ms_max=max(rtts) if rtts else None,
            counters=status.get("counters", {}),
            gossip={k: status[k] for k in ("mesh_peers", "delivered", "duplicates", "invalid") if k in status},
        )
        return record

    def snapshot(self):
        with self.lock:
            return dict(self.latest)
