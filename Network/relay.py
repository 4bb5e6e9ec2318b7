#!/usr/bin/env python3
"""A TCP relay that delays every chunk by a fixed time in both directions, preserving order.

The lab puts one in front of each node (this kernel has no netem): peers dial the relay's address,
the relay connects to the node's real listen address, and each byte reaches the other side
DELAY_MS later than it would have. A connection crosses exactly one relay (the one of the node it
dials), so every link gets the same one-way delay.

    relay.py LISTEN_HOST:PORT TARGET_HOST:PORT DELAY_MS
"""
import asyncio
import sys
import time


async def pipe(reader, writer, delay):
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, chunk = await queue.get()
            if chunk is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(chunk)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(deliver())
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            await queue.put((time.monotonic() + delay, chunk))
    except (ConnectionError, OSError):
        pass
    await queue.put((time.monotonic() + delay, None))
    try:
        await sender
    except (ConnectionError, OSError):
        pass


async def handle(client_reader, client_writer, target, delay):
    try:
        node_reader, node_writer = await asyncio.open_connection(*target)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, node_writer, delay), pipe(node_reader, client_writer, delay))


async def main():
    listen_host, listen_port = sys.argv[1].rsplit(":", 1)
    target_host, target_port = sys.argv[2].rsplit(":", 1)
    delay = float(sys.argv[3]) / 1000.0
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, (target_host, int(target_port)), delay), listen_host, int(listen_port))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
