"""The lab's network: one namespace per node, all joined by a bridge in a namespace of its own.

    clab<RUN>-br   holds bridge br0 and one veth end per node (v1 ... vN)
    clab<RUN>-<i>  holds the other end, named lab0, with 10.77.x.y/16, and lo

RUN is a 4-hex-digit id per lab run, so two labs (or any other tool's namespaces, such as an
older lab's `chorus-lab-<i>`) never share a name and a cleanup only ever removes its own run.
Nothing is created in the root namespace: the veth pairs are created directly inside the lab
namespaces, so eth0 and the root ruleset are never touched, and deleting the namespaces removes
every interface, address, nftables table and socket the lab made.
"""

import concurrent.futures
import os
import re
import signal
import subprocess

PREFIX = "clab"          # every lab namespace is clab<RUN>-<suffix>
NODE_PORT = 7700       # the port other nodes dial (the node itself, or the delay relay)
INNER_PORT = 7701      # the node's own listener on 127.0.0.1 when the relay sits in front
SUBNET = "10.77.0.0/16"


RUN = None  # set once per process by use_run()


def use_run(run: str):
    global RUN
    RUN = run


def node_ns(i: int) -> str:
    return f"{PREFIX}{RUN}-{i}"


def bridge_ns() -> str:
    return f"{PREFIX}{RUN}-br"


def node_ip(i: int) -> str:
    """Node i (1-based) gets 10.77.(i div 250).(i mod 250 + 1): never .0 or .255."""
    return f"10.77.{i // 250}.{i % 250 + 1}"


def sh(*args, check=True, input=None):
    """Runs one command; failures raise with the command and its stderr."""
    result = subprocess.run(args, input=input, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def namespaces_of(run: str):
    """The namespaces of lab run `run`."""
    try:
        names = os.listdir("/run/netns")
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n.startswith(f"{PREFIX}{run}-"))


def runs_present():
    """Run ids of every lab whose namespaces exist (clab<4 hex>-...)."""
    try:
        names = os.listdir("/run/netns")
    except FileNotFoundError:
        return set()
    return {m.group(1) for m in (re.fullmatch(rf"{PREFIX}([0-9a-f]{{4}})-(br|\d+)", n) for n in names) if m}


def node_mac(i: int) -> str:
    return f"02:77:00:00:{i >> 8:02x}:{i & 0xff:02x}"


def _add_node(i: int):
    ns = node_ns(i)
    sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", f"v{i}", "netns", bridge_ns(), "type", "veth",
       "peer", "name", "lab0", "address", node_mac(i), "netns", ns)
    sh("ip", "-n", bridge_ns(), "link", "set", f"v{i}", "master", "br0", "up")
    sh("ip", "-n", ns, "addr", "add", f"{node_ip(i)}/16", "dev", "lab0")
    sh("ip", "-n", ns, "link", "set", "lab0", "up")
    sh("ip", "-n", ns, "link", "set", "lo", "up")


def create(n: int, workers: int = 8):
    """Creates the bridge namespace and n node namespaces (a few seconds for 100)."""
    if namespaces_of(RUN):
        raise RuntimeError(f"namespaces of lab run {RUN} already exist; run `Network/lab clean`")
    sh("ip", "netns", "add", bridge_ns())
    sh("ip", "-n", bridge_ns(), "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0")
    sh("ip", "-n", bridge_ns(), "link", "set", "br0", "up")
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(_add_node, range(1, n + 1)))
        list(pool.map(lambda i: _static_neighbours(i, n), range(1, n + 1)))


def _static_neighbours(i: int, n: int):
    """Permanent ARP entries for every other node. The kernel's ARP table is shared by all
    namespaces and holds at most net.ipv4.neigh.default.gc_thresh3 (1024) learned entries in
    total; 100 nodes with ~20 peers each need about 2,000 and would hit "neighbor table
    overflow" (and starve any other lab on the machine). Permanent entries do not count
    against that limit, and the lab never has to change a system-wide setting."""
    lines = "".join(f"neigh replace {node_ip(j)} lladdr {node_mac(j)} dev lab0 nud permanent\n"
                    for j in range(1, n + 1) if j != i)
    if lines:
        sh("ip", "-n", node_ns(i), "-batch", "-", input=lines)


def pids_in(ns: str):
    result = sh("ip", "netns", "pids", ns, check=False)
    return [int(p) for p in result.stdout.split()]


def destroy(run: str):
    """Kills what still runs inside the namespaces of lab run `run` (by pid: only processes
    living in those namespaces, which only the lab starts) and deletes the namespaces."""
    names = namespaces_of(run)
    for ns in names:
        for pid in pids_in(ns):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for ns in names:
        sh("ip", "netns", "del", ns, check=False)
    return names
