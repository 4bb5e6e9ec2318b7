"""The delay relay: adds one-way delay (and optional jitter) to every TCP connection to a node.

This kernel has no netem, so delay is made in user space. For each node the relay listens on the
node's public address (lab IP, port 7700) inside the node's namespace and forwards every accepted
connection to the node's real listener on 127.0.0.1:7701 in the same namespace. Every chunk read
from one side is written to the other side `delay` later (plus a jitter sample), never earlier
than the chunk before it, so byte order and TCP semantics (half-close, reset) are preserved.

Every connection in the lab is accepted by exactly one node, so it crosses exactly one relay:
each direction gets the one-way delay once and the round trip grows by 2 x delay. Packet loss
(nftables) still acts on the real TCP segments on the bridge, where the kernel retransmits them.

One process serves all nodes (sockets are created inside each namespace with setns, see
netns.py), which costs far less memory and fewer context switches than a process per node.

Run: python3 -m chorus_lab.relay SPEC.json   (SPEC: {"delay_ms", "jitter_ms", "routes": [
{"ns", "listen": "ip:port", "target": "ip:port"}, ...]}); SIGTERM or SIGINT stops it.
"""

import asyncio
import collections
import json
import random
import signal
import socket
import sys

from . import netns

EOF = object()     # queued marker: the source half-closed; write_eof() on the destination
CLOSE = object()   # queued marker: the source closed; close the destination after the data
MAX_QUEUED = 4 << 20  # bytes held per direction before reading from the source pauses


def _hostport(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


class Direction:
    """Bytes flowing one way through a relayed connection, each chunk released at its due time."""

    def __init__(self, loop, delay, jitter, rng, on_eof):
        self.loop, self.delay, self.jitter, self.rng = loop, delay, jitter, rng
        self.on_eof = on_eof     # called once the EOF marker has been passed on
        self.queue = collections.deque()
        self.queued_bytes = 0
        self.last_due = 0.0
        self.timer = None
        self.source = None       # transport read from
        self.destination = None  # transport written to
        self.source_paused = False

    def push(self, item):
        sample = self.rng.uniform(-self.jitter, self.jitter) if self.jitter else 0.0
        due = max(self.last_due, self.loop.time() + max(0.0, self.delay + sample))
        self.last_due = due
        self.queue.append((due, item))
        if isinstance(item, bytes):
            self.queued_bytes += len(item)
            if self.queued_bytes > MAX_QUEUED and not self.source_paused:
                self.source.pause_reading()
                self.source_paused = True
        if self.timer is None:
            self.timer = self.loop.call_at(due, self.flush)

    def flush(self):
        self.timer = None
        now = self.loop.time()
        while self.queue and self.queue[0][0] <= now:
            _, item = self.queue.popleft()
            if isinstance(item, bytes):
                self.queued_bytes -= len(item)
            if self.destination is None or self.destination.is_closing():
                continue
            if item is EOF:
                if self.destination.can_write_eof():
                    self.destination.write_eof()
                self.on_eof()
            elif item is CLOSE:
                self.destination.close()
            else:
                self.destination.write(item)
        if self.source_paused and self.queued_bytes <= MAX_QUEUED // 2 and not self.source.is_closing():
            self.source.resume_reading()
            self.source_paused = False
        if self.queue:
            self.timer = self.loop.call_at(self.queue[0][0], self.flush)

    def cancel(self):
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.queue.clear()


class Side(asyncio.Protocol):
    """One socket of a relayed pair; what it reads goes into `outgoing`."""

    def __init__(self, pair, outgoing, incoming):
        self.pair, self.outgoing, self.incoming = pair, outgoing, incoming
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.outgoing.source = transport
        self.incoming.destination = transport

    def data_received(self, data):
        self.outgoing.push(data)

    def eof_received(self):
        self.outgoing.push(EOF)
        return True  # keep the other direction open (half-close)

    def connection_lost(self, exc):
        self.pair.lost(self, exc)

    def pause_writing(self):   # our socket's send buffer is full: stop reading the other side
        other = self.incoming.source
        if other is not None and not other.is_closing():
            other.pause_reading()

    def resume_writing(self):
        other = self.incoming.source
        if other is not None and not other.is_closing() and not self.incoming.source_paused:
            other.resume_reading()


class OutsideSide(Side):
    """The accepted connection from another node; once it is made, the pair dials the node."""

    def connection_made(self, transport):
        super().connection_made(transport)
        transport.pause_reading()  # nothing is read until the node's side is connected
        self.pair.start()


class Pair:
    """An accepted outside connection and its connection to the node."""

    def __init__(self, route, loop, rng, tasks):
        self.route, self.loop, self.tasks = route, loop, tasks
        self.up = Direction(loop, route.delay, route.jitter, rng, self.eof_passed)    # outside -> node
        self.down = Direction(loop, route.delay, route.jitter, rng, self.eof_passed)  # node -> outside
        self.outside = OutsideSide(self, self.up, self.down)
        self.inside = None
        self.eofs = 0

    def eof_passed(self):
        """Both directions finished (each side sent EOF): nothing more can flow, so close both
        sockets (asyncio keeps a half-closed transport open until told)."""
        self.eofs += 1
        if self.eofs == 2:
            for side in (self.outside, self.inside):
                if side is not None and side.transport is not None:
                    side.transport.close()

    def start(self):
        task = self.loop.create_task(self.connect_inside())
        self.tasks.add(task)  # keep a reference until it finishes
        task.add_done_callback(self.tasks.discard)

    def lost(self, side, exc):
        other = self.inside if side is self.outside else self.outside
        outgoing = side.outgoing
        if exc is not None:  # reset or error: reset the other side at once
            self.up.cancel()
            self.down.cancel()
            if other is not None and other.transport is not None:
                other.transport.abort()
        else:  # orderly close: deliver what is queued, then close
            outgoing.push(CLOSE)
            if other is None:
                self.up.cancel()

    async def connect_inside(self):
        sock = None
        try:
            with netns.entered(self.route.ns):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            await self.loop.sock_connect(sock, self.route.target)
            self.inside = Side(self, self.down, self.up)
            await self.loop.create_connection(lambda: self.inside, sock=sock)
        except OSError:
            if sock is not None:
                sock.close()
            self.outside.transport.abort()  # the node is down: refuse like a closed port would
            return
        if self.outside.transport.is_closing():
            self.inside.transport.close()  # the dialer gave up while we connected
        else:
            self.outside.transport.resume_reading()


class Route:
    def __init__(self, spec, delay, jitter):
        self.ns = spec["ns"]
        self.listen = _hostport(spec["listen"])
        self.target = _hostport(spec["target"])
        self.delay, self.jitter = delay, jitter


async def serve(spec):
    loop = asyncio.get_running_loop()
    rng = random.Random(spec.get("seed"))
    delay, jitter = spec["delay_ms"] / 1000.0, spec.get("jitter_ms", 0) / 1000.0
    tasks = set()
    servers = []
    for route_spec in spec["routes"]:
        route = Route(route_spec, delay, jitter)
        with netns.entered(route.ns):
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(route.listen)
        listener.listen(1024)
        listener.setblocking(False)
        servers.append(await loop.create_server(
            lambda route=route: Pair(route, loop, rng, tasks).outside, sock=listener))
    stop = asyncio.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    print(json.dumps({"relay": "ready", "routes": len(servers)}), flush=True)
    await stop.wait()
    for server in servers:
        server.close()


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    asyncio.run(serve(spec))


if __name__ == "__main__":
    main()
