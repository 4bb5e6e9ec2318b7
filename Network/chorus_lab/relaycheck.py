"""`Network/lab relay-check`: how accurate and how costly the delay relay is.

Two lab namespaces; an echo server in the second one; a client in the first one sends 1 KiB,
waits for the echo, and repeats. Round trips are measured directly (no relay), through the relay
with no delay, with 20 ms, with 20 ms ± 5 ms jitter, and with 20 ms plus 0.5 % loss; then bulk
throughput direct and through the relay. The ideal relayed round trip is the direct one plus
2 x delay; the difference is the relay's overhead.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from . import faults, topology
from .lab import NETWORK_DIR, log

ECHO = r"""
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7701)); s.listen(64)
def serve(c):
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        d = c.recv(65536)
        if not d: break
        c.sendall(d)
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
"""

CHURN = r"""
import socket, sys
for _ in range(int(sys.argv[3])):
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
    c.sendall(b"z" * 100); got = 0
    while got < 100: got += len(c.recv(1000))
    c.close()
"""

CLIENT = r"""
import json, socket, sys, time
host, port, rounds, bulk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
c = socket.create_connection((host, port)); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
msg = b"x" * 1024; rtts = []
for _ in range(rounds):
    t = time.perf_counter(); c.sendall(msg); got = 0
    while got < len(msg): got += len(c.recv(65536))
    rtts.append((time.perf_counter() - t) * 1000)
mbps = None
if bulk:
    import threading
    block = b"y" * 65536; total = bulk << 20; received = [0]
    def drain():
        while received[0] < total: received[0] += len(c.recv(1 << 20))
    t = time.perf_counter(); r = threading.Thread(target=drain); r.start()
    for _ in range(total // len(block)): c.sendall(block)
    r.join(); mbps = total / (time.perf_counter() - t) / 1e6
rtts.sort()
print(json.dumps({"rounds": rounds, "rtt_ms_p50": round(rtts[len(rtts) // 2], 3),
                  "rtt_ms_p99": round(rtts[int(len(rtts) * 0.99)], 3), "rtt_ms_min": round(rtts[0], 3),
                  "rtt_ms_max": round(rtts[-1], 3), "bulk_mb_per_s": mbps and round(mbps, 1)}))
"""


def _client(target, rounds, bulk_mb=0):
    result = topology.sh("ip", "netns", "exec", topology.node_ns(1), sys.executable, "-c", CLIENT,
                         target[0], str(target[1]), str(rounds), str(bulk_mb))
    return json.loads(result.stdout)


def _relay(work, delay_ms, jitter_ms):
    spec = {"delay_ms": delay_ms, "jitter_ms": jitter_ms, "seed": 1,
            "routes": [{"ns": topology.node_ns(2), "listen": f"{topology.node_ip(2)}:{topology.NODE_PORT}",
                        "target": f"127.0.0.1:{topology.INNER_PORT}"}]}
    path = os.path.join(work, f"relay-{delay_ms}-{jitter_ms}.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    relay = subprocess.Popen([sys.executable, "-m", "chorus_lab.relay", path], cwd=NETWORK_DIR,
                             stdout=subprocess.PIPE, text=True, start_new_session=True)
    relay.stdout.readline()
    return relay


def main():
    run = f"{os.getpid() & 0xffff:04x}"
    topology.use_run(run)
    work = tempfile.mkdtemp(prefix="chorus-lab-relay-check-")
    echo = None
    results = []
    leak = {}
    try:
        topology.create(2)
        echo = subprocess.Popen(["ip", "netns", "exec", topology.node_ns(2), sys.executable, "-c", ECHO],
                                start_new_session=True)
        time.sleep(0.5)
        direct = (topology.node_ip(2), topology.INNER_PORT)
        relayed = (topology.node_ip(2), topology.NODE_PORT)
        # (name, relay (delay, jitter) or None, ideal extra round-trip ms, loss per mille)
        cases = [("direct", None, 0, 0), ("relay, no delay", (0, 0), 0, 0),
                 ("relay, 20 ms", (20, 0), 40, 0), ("relay, 20 ms ± 5 ms", (20, 5), 40, 0),
                 ("relay, 20 ms, 0.5 % loss", (20, 0), 40, 5)]
        for name, relay_spec, ideal_extra, loss in cases:
            relay = _relay(work, *relay_spec) if relay_spec else None
            node_faults = faults.NodeFaults(2)
            node_faults.loss_permille = loss
            node_faults.apply()
            try:
                r = _client(relayed if relay else direct, 300 if loss == 0 else 1000)
            finally:
                if relay:
                    relay.send_signal(signal.SIGTERM)
                    relay.wait()
            r["case"] = name
            r["expected_rtt_ms"] = round(results[0]["rtt_ms_p50"] + ideal_extra, 3) if results else None
            results.append(r)
            log(f"{name}: {r}")
        faults.NodeFaults(2).apply()
        r = _client(direct, 10, 200)
        r["case"] = "bulk direct (200 MiB)"
        results.append(r)
        relay = _relay(work, 0, 0)
        try:
            r = _client(relayed, 10, 200)
        except BaseException:
            relay.send_signal(signal.SIGTERM)
            raise
        r["case"] = "bulk through the relay (200 MiB)"
        results.append(r)
        # Closed connections must not leave sockets behind in the relay.
        fds_before = len(os.listdir(f"/proc/{relay.pid}/fd"))
        topology.sh("ip", "netns", "exec", topology.node_ns(1), sys.executable, "-c", CHURN,
                    relayed[0], str(relayed[1]), "200")
        time.sleep(0.5)
        leak = {"case": "200 connections opened and closed", "relay_fds_before": fds_before,
                "relay_fds_after": len(os.listdir(f"/proc/{relay.pid}/fd"))}
        relay.send_signal(signal.SIGTERM)
        relay.wait()
    finally:
        if echo:
            echo.kill()
            echo.wait()
        topology.destroy(run)
    print(json.dumps(results + [leak], indent=1))
    print()
    print(f"{'case':<34} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'ideal p50':>9} {'MB/s':>7}")
    for r in results:
        print(f"{r['case']:<34} {r['rtt_ms_p50']:>8} {r['rtt_ms_p99']:>8} {r['rtt_ms_max']:>8} "
              f"{str(r.get('expected_rtt_ms') or ''):>9} {str(r['bulk_mb_per_s'] or ''):>7}")
    print(f"relay sockets before/after 200 connections opened and closed: "
          f"{leak['relay_fds_before']} / {leak['relay_fds_after']}")
