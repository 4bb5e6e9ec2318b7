"""Packet faults with nftables, one table `inet chorus_lab` inside each node's namespace.

Loss: packets arriving on lab0 are dropped with probability k/1000 (`numgen random mod 1000 < k`).
Every packet between two nodes arrives at exactly one node, so the per-packet loss rate is k/1000
on every path, for data and ACKs alike; TCP retransmits what is lost.

Partition: the set @cut holds the addresses this node must not reach; packets to them (output)
and from them (input) are dropped, or answered with a TCP reset in `reject` mode. A heal empties
the set. The table is replaced atomically (`nft -f`) on every change.

The tables live in the lab namespaces only, so the root namespace's ruleset is never touched,
and they disappear with the namespaces.
"""

import concurrent.futures

from . import topology

TABLE = "chorus_lab"


class NodeFaults:
    def __init__(self, i: int):
        self.i = i
        self.loss_permille = 0
        self.cut = set()        # addresses (strings) this node cannot exchange packets with
        self.cut_mode = "drop"  # or "reject"

    def ruleset(self) -> str:
        elements = ", ".join(sorted(self.cut))
        cut_set = f"set cut {{ type ipv4_addr; elements = {{ {elements} }} }}" if self.cut else \
            "set cut { type ipv4_addr; }"
        if self.cut_mode == "reject":
            cut_in = 'iifname "lab0" ip saddr @cut meta l4proto tcp reject with tcp reset\n' \
                     '        iifname "lab0" ip saddr @cut drop'
            cut_out = 'oifname "lab0" ip daddr @cut meta l4proto tcp reject with tcp reset\n' \
                      '        oifname "lab0" ip daddr @cut drop'
        else:
            cut_in = 'iifname "lab0" ip saddr @cut drop'
            cut_out = 'oifname "lab0" ip daddr @cut drop'
        loss = f'iifname "lab0" numgen random mod 1000 < {self.loss_permille} drop' if self.loss_permille else ""
        return f"""
table inet {TABLE}
delete table inet {TABLE}
table inet {TABLE} {{
    {cut_set}
    chain input {{
        type filter hook input priority 0; policy accept;
        {cut_in}
        {loss}
    }}
    chain output {{
        type filter hook output priority 0; policy accept;
        {cut_out}
    }}
}}
"""

    def apply(self):
        topology.sh("ip", "netns", "exec", topology.node_ns(self.i), "nft", "-f", "-", input=self.ruleset())


def apply_all(faults, workers: int = 8):
    """Applies the rulesets of many nodes in parallel (about a second for 100)."""
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda f: f.apply(), faults))
